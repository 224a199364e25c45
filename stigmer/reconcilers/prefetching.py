"""What a chunk of requests is about to read, for a store whose reads are round trips.

``WriteTxn.prefetch`` takes these (kind, org, slug) and reads them, and what
hangs off them, in one go before the chunk runs
(docs/architecture.md, "The etcd backend"). A guess that misses costs a
round trip later, never a wrong answer: the pipelines still read everything
they use.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from stigmer.api import kinds, naming
from stigmer.reconcilers.framework import Request


def slugs(requests: Iterable[Request], org: str) -> Iterator[tuple[str, str, str]]:
    """(kind, org, slug) of each applied object, and of an agent's default instance."""
    for request in requests:
        md = request.desired.metadata if request.desired is not None else None
        if md is None or request.verb == "delete":
            continue
        slug = md.slug or naming.slugify(md.name)
        where = md.org or request.org or org
        yield request.kind.key, where, slug
        if request.kind is kinds.AGENT:  # its pipeline reads agents.default_slug
            yield kinds.AGENT_INSTANCE.key, where, naming.default_instance_slug(slug)
