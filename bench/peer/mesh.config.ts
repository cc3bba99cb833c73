import { createFilterTransform, createPrefixTransform, defineConfig } from '@graphql-mesh/compose-cli';
import { loadOpenAPISubgraph } from '@omnigraph/openapi';

const plant = process.env.PLANT_URL || 'http://127.0.0.1:18100';
const systems = ['erp', 'qms', 'mes', 'wms'];

export const composeConfig = defineConfig({
  subgraphs: systems.map((name) => ({
    sourceHandler: loadOpenAPISubgraph(name, {
      source: `./${name}.patched.json`,
      endpoint: `${plant}/${name}`,
      ignoreErrorResponses: true,
    }),
    transforms: [
      createPrefixTransform({ value: `${name}_`, includeRootOperations: true }),
      createFilterTransform({ filters: ['Query.!{*Faults,*Stats,*Openapi}', 'Mutation.!*admin*'] }),
    ],
  })),
  additionalTypeDefs: /* GraphQL */ `
    extend type erp_Shipment {
      order: erp_SalesOrder
        @resolveTo(sourceName: "erp", sourceTypeName: "Query", sourceFieldName: "erp_listSalesOrders",
                   requiredSelectionSet: "{ order_id }", keyField: "order_id", keysArg: "ids",
                   valueKeyField: "id", result: "items")
    }
    extend type erp_AssignedLot {
      lot: mes_Lot
        @resolveTo(sourceName: "mes", sourceTypeName: "Query", sourceFieldName: "mes_listLots",
                   requiredSelectionSet: "{ lot_id }", keyField: "lot_id", keysArg: "ids",
                   valueKeyField: "id", result: "items")
      quality: qms_QualityLot
        @resolveTo(sourceName: "qms", sourceTypeName: "Query", sourceFieldName: "qms_listQualityLots",
                   requiredSelectionSet: "{ lot_id }", keyField: "lot_id", keysArg: "ids",
                   valueKeyField: "lot_id", result: "items")
      stock: [wms_Stock]
        @resolveTo(sourceName: "wms", sourceTypeName: "Query", sourceFieldName: "wms_listStocks",
                   requiredSelectionSet: "{ lot_id }", sourceArgs: { lot_ids: ["{root.lot_id}"] }, result: "items")
    }
  `,
});
