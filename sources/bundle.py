"""The four upstream adapters, held together so they are opened and closed as one."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sources.erp import ErpSource
from sources.mes import MesSource
from sources.qms import QmsSource
from sources.wms import WmsSource


@dataclass(frozen=True, slots=True)
class Sources:
    erp: ErpSource
    qms: QmsSource
    mes: MesSource
    wms: WmsSource

    async def aclose(self) -> None:
        await asyncio.gather(
            self.erp.client.aclose(), self.qms.client.aclose(), self.mes.client.aclose(), self.wms.client.aclose()
        )
