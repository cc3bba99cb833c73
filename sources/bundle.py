"""The four upstream adapters, held together so they are opened and closed as one."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sources.ports import ErpPort, MesPort, QmsPort, Upstream, WmsPort


@dataclass(frozen=True, slots=True)
class Sources:
    erp: ErpPort
    qms: QmsPort
    mes: MesPort
    wms: WmsPort

    @property
    def all(self) -> tuple[Upstream, ...]:
        return (self.erp, self.qms, self.mes, self.wms)

    async def aclose(self) -> None:
        await asyncio.gather(*(source.aclose() for source in self.all))
