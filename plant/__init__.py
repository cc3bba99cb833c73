"""The reference plant: ERP, QMS, MES and WMS services over SQLite, and the data generator.

Entry points: ``plant.generator.generate``, ``plant.app.create_plant_app``, ``plant.app.create_system_app``,
``plant.app.ensure_data``, ``plant.app.PlantServer`` / ``plant.app.serve``, and ``plant.cli`` for ``lotgraph plant``.
"""
