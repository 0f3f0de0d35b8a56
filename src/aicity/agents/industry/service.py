"""What the API, the CLI and the console page share: the gaps list over every chain."""

from __future__ import annotations

from aicity.agents.industry import chains
from aicity.agents.industry.figures import Queries
from aicity.agents.industry.schemas import Gap


def gaps(chain: str | None = None, district: str | None = None, queries: Queries | None = None) -> list[Gap]:
    """The missing and thin nodes of one chain (or every chain), upstream to downstream."""
    queries = queries or Queries()
    names = [chains.resolve_chain(chain, queries)] if chain else chains.chain_names(queries)
    found = []
    for name in names:
        cmap = chains.chain_map(name, district, queries)
        found += [Gap(chain=cmap.chain, district=cmap.district, node=n.name, position=n.position, level=n.strength.level,
                      label=n.strength.label, index=n.strength.index, reason=n.strength.reason, leads=n.leads)
                  for n in cmap.nodes if n.name in cmap.gaps]
    return found
