"""Which Objects a Segment may use, and what the first use of an Object fixes.

TAMS rules (flow-segment-post, AppNote 0018, ADR 0030, 0038, 0045):

- an Object the service allocated is first registered on the Flow it was allocated
  for, and only once its bytes are in the backend;
- an Object the service does not know is external: it is accepted only with the
  uncontrolled ``get_urls`` that say where it is;
- the first Segment fixes the Object's own timerange (``object_timerange``, or the
  Segment's timerange less ``ts_offset``), ``key_frame_count`` and init Object; later
  Segments reuse it as it is: their part of it, ``timerange - ts_offset``, lies inside
  its timerange, and they may not change those properties;
- an Object used as an init Object is not accepted as media, nor the reverse.

A caller may not know the Flow an Object was allocated for (``auth_classes``,
``domain.access``): the refusal of its first use elsewhere then names no Flow.

``ObjectLedger`` holds the Objects one registration touches, as the store read them
inside its write transaction, and applies each accepted Segment to them in order, so
that the second Segment of a new Object in one batch is checked as a reuse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tams_server.domain.errors import FailedPrecondition, InvalidArgument, Reason, TamsError
from tams_server.domain.objects import check_object_id
from tams_server.domain.segments import Segment, UncontrolledUrl, stored_timerange
from tams_server.domain.timerange import (
    TimeRange,
    format_timerange,
    parse_timerange,
    parse_timestamp,
    to_bounds,
)

MEDIA = "media"
INIT = "init"


@dataclass(slots=True)
class ObjectState:
    """What registration needs to know of one Object, and what it changes."""

    id: str
    first_flow_id: str | None = None
    stored: bool = False
    """The service holds a copy in one of its backends."""
    uploaded: bool = False
    """That copy's bytes were seen in the backend."""
    size_bytes: int | None = None
    """Their size, when this registration just saw them."""
    registered: bool = False
    kind: str | None = None
    timerange: str | None = None
    start_ns: int | None = None
    end_ns: int | None = None
    key_frame_count: int | None = None
    init_object_id: str | None = None
    get_urls: list[dict[str, str]] = field(default_factory=list)
    new: bool = False
    """Not in the store yet: an Object this registration introduces (external, or
    allocated by its first Segment)."""
    storage_id: str | None = None
    """The backend holding its first copy (None: the service holds none); for a new
    Object, the one its first Segment allocates it on (None: external)."""
    storage_key: str | None = None
    """Where in that backend."""
    extra_instances: int = 0
    """Further copies on other backends."""
    changed: bool = False
    """In the store, and this registration changes it."""
    urls_added: bool = False
    """In the store, and this registration gives it new uncontrolled URLs."""


class ObjectLedger:
    """The Objects of one registration to one Flow (see the module docstring)."""

    def __init__(
        self,
        flow_id: str,
        states: Iterable[ObjectState],
        *,
        backend_labels: frozenset[str],
        hidden_flows: frozenset[str] = frozenset(),
        allocate_on: str | None = None,
    ) -> None:
        self._flow_id = flow_id
        self._states = {state.id: state for state in states}
        self._backend_labels = backend_labels
        self._hidden_flows = hidden_flows
        """Flows the caller may not read: an error never names them."""
        self._allocate_on = allocate_on
        """A backend id: a media Object no one allocated (and without uncontrolled
        URLs) is allocated there by its first Segment, on this Flow, its bytes to come
        (the usage guide registers Segments before their upload); None: refused."""

    @property
    def states(self) -> list[ObjectState]:
        """Every Object the registration touched."""
        return list(self._states.values())

    def has_urls(self, object_id: str, urls: Iterable[UncontrolledUrl]) -> bool:
        """Whether the Object has each of ``urls`` under its label already."""
        state = self._states.get(object_id)
        if state is None:
            return False
        known = {u["label"]: u["url"] for u in state.get_urls}
        return all(known.get(url.label) == url.url for url in urls)

    def admit(self, segment: Segment) -> TamsError | None:
        """Why ``segment`` may not use its Objects, or None: then its effects on them
        are applied, and a reuse that omits ``init_object_id`` inherits the Object's."""
        post = segment.post
        offset = parse_timestamp(post.ts_offset) if post.ts_offset else 0
        used = (segment.start_ns - offset, segment.end_ns - offset)
        init = None
        if post.init_object_id is not None:
            init = self._states.get(post.init_object_id)
            error = self._check_first_or_kind(init, post.init_object_id, INIT, "init_object_id")
            if error is not None:
                return error
        state = self._states.get(post.object_id)
        if state is None:
            if post.get_urls:
                state = ObjectState(post.object_id, first_flow_id=self._flow_id, new=True)
            elif self._allocate_on is not None:
                try:
                    check_object_id(post.object_id, "object_id")  # it becomes a key
                except InvalidArgument as refused:
                    return refused
                state = ObjectState(
                    post.object_id, first_flow_id=self._flow_id, new=True, stored=True,
                    storage_id=self._allocate_on,
                )  # fmt: skip
            else:
                return _unknown(post.object_id, "object_id")
        else:
            error = self._check_first_or_kind(state, post.object_id, MEDIA, "object_id")
            if error is not None:
                return error
        error = self._check_timeline(segment, state, used) or self._check_urls(segment, state)
        if error is not None:
            return error
        self._states[state.id] = state
        if init is not None:
            self._use(init, INIT)
        if not state.registered:
            self._fix_properties(segment, state, used)
        elif post.init_object_id is None:
            post.init_object_id = state.init_object_id
        self._use(state, MEDIA)
        if post.get_urls:
            known = {u["label"] for u in state.get_urls}
            for url in post.get_urls:
                if url.label not in known:
                    state.get_urls.append({"url": url.url, "label": url.label})
                    state.changed = state.urls_added = not state.new
        return None

    def _check_first_or_kind(
        self, state: ObjectState | None, object_id: str, kind: str, field_name: str
    ) -> TamsError | None:
        if state is None:
            return _unknown(object_id, field_name)
        if state.kind is not None and state.kind != kind:
            return FailedPrecondition(
                f"object {object_id} is {_a(state.kind)} object and cannot be used as "
                f"{_a(kind)} object",
                reason=Reason.OBJECT_KIND_MISMATCH,
                metadata={"objectId": object_id, "kind": state.kind},
            )
        if state.registered:
            return None
        if state.first_flow_id != self._flow_id:
            return _of_another_flow(object_id, state.first_flow_id, self._hidden_flows)
        if state.stored and not state.uploaded:
            return FailedPrecondition(
                f"object {object_id} was allocated but its bytes are not in the store; "
                "upload them to the put_url first",
                reason=Reason.OBJECT_NOT_UPLOADED,
                metadata={"objectId": object_id},
            )
        return None

    def _check_timeline(
        self, segment: Segment, state: ObjectState, used: tuple[int, int]
    ) -> TamsError | None:
        post = segment.post
        if not state.registered:
            if post.object_timerange is None:
                return None
            bounds = to_bounds(parse_timerange(post.object_timerange))
            if bounds[0] <= used[0] and used[1] <= bounds[1]:
                return None
            return _outside(post.object_id, _text(used), post.object_timerange)
        changes = [
            name
            for name, given, fixed in (
                ("key_frame_count", post.key_frame_count, state.key_frame_count),
                ("init_object_id", post.init_object_id, state.init_object_id),
            )
            if given is not None and given != fixed
        ]
        if post.object_timerange is not None:
            bounds = to_bounds(parse_timerange(post.object_timerange))
            if state.start_ns is not None and bounds != (state.start_ns, state.end_ns):
                changes.append("object_timerange")
        if changes:
            return FailedPrecondition(
                f"object {state.id} is in use already; a segment reusing it cannot change "
                f"its {', '.join(changes)} (omit them on reuse)",
                reason=Reason.OBJECT_PROPERTY_MISMATCH,
                metadata={"objectId": state.id, "fields": ",".join(changes)},
            )
        if state.start_ns is None or state.end_ns is None:
            return None  # an Object recorded before its timerange was kept
        if state.start_ns <= used[0] and used[1] <= state.end_ns:
            return None
        return _outside(state.id, _text(used), state.timerange or "")

    def _check_urls(self, segment: Segment, state: ObjectState) -> TamsError | None:
        if not segment.post.get_urls:
            return None
        known = {u["label"]: u["url"] for u in state.get_urls}
        for url in segment.post.get_urls:
            if url.label in self._backend_labels:
                return FailedPrecondition(
                    f"get_urls label {url.label!r} is the label of a storage backend; "
                    "uncontrolled URLs need labels of their own",
                    reason=Reason.GET_URL_LABEL_TAKEN,
                    metadata={"objectId": state.id, "label": url.label},
                )
            if known.get(url.label, url.url) != url.url:
                return FailedPrecondition(
                    f"object {state.id} has another URL under the label {url.label!r}",
                    reason=Reason.GET_URL_LABEL_TAKEN,
                    metadata={"objectId": state.id, "label": url.label},
                )
        return None

    def _fix_properties(self, segment: Segment, state: ObjectState, used: tuple[int, int]) -> None:
        post = segment.post
        if post.object_timerange is not None:
            state.start_ns, state.end_ns = to_bounds(parse_timerange(post.object_timerange))
            state.timerange = post.object_timerange
        else:
            state.start_ns, state.end_ns = used
            # No offset: the Object's timeline is the Segment's, text included.
            same = used == (segment.start_ns, segment.end_ns)
            state.timerange = stored_timerange(post, *used) if same else _text(used)
        state.key_frame_count = post.key_frame_count
        state.init_object_id = post.init_object_id

    @staticmethod
    def _use(state: ObjectState, kind: str) -> None:
        if not state.registered:
            state.registered = True
            state.kind = kind
            state.changed = not state.new


def _unknown(object_id: str, field_name: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"object {object_id} is not known to this store: allocate it on the flow's "
        "storage and upload it first, or give uncontrolled get_urls for an external object",
        reason=Reason.OBJECT_UNKNOWN,
        metadata={"objectId": object_id, "field": field_name},
    )


def _of_another_flow(
    object_id: str, flow_id: str | None, hidden_flows: frozenset[str]
) -> FailedPrecondition:
    """The refusal of the first use of an Object allocated for another Flow: naming
    that Flow only to a caller who may read it (a hidden Flow does not exist for the
    caller, ADR 0055), in the message as in the metadata."""
    if flow_id is None or flow_id in hidden_flows:
        return FailedPrecondition(
            f"object {object_id} was allocated for another flow; its first segment must "
            "be registered there (TAMS AppNote 0018)",
            reason=Reason.OBJECT_OF_ANOTHER_FLOW,
            metadata={"objectId": object_id},
        )
    return FailedPrecondition(
        f"object {object_id} was allocated for flow {flow_id}; its first segment must be "
        "registered there (TAMS AppNote 0018)",
        reason=Reason.OBJECT_OF_ANOTHER_FLOW,
        metadata={"objectId": object_id, "flowId": flow_id},
    )


def _outside(object_id: str, used: str, timerange: str) -> FailedPrecondition:
    return FailedPrecondition(
        f"the segment uses {used} of object {object_id}, outside the object's own "
        f"timerange {timerange} (timerange - ts_offset must lie within it)",
        reason=Reason.OBJECT_TIMERANGE_MISMATCH,
        metadata={"objectId": object_id, "used": used, "objectTimerange": timerange},
    )


def _text(bounds: tuple[int, int]) -> str:
    return format_timerange(TimeRange(bounds[0], bounds[1]))


def _a(kind: str) -> str:
    return "an init" if kind == INIT else "a media"
