"""``/hls/...``: playlists of the store's Flows over the gRPC API, with the caller's
credentials (the gateway forwards them: a header, or ``?access_token=`` for players
that cannot send headers, which the master playlist carries into the media playlist
URIs it writes). Segment URIs are the Segments' download URLs, presigned: they carry
their own signature.

A media playlist is VOD (``EXT-X-PLAYLIST-TYPE:VOD``, ``EXT-X-ENDLIST``) or live (the
newest ``window`` Segments, no end), as ``?live=true|false`` says; by default a Flow
is live when its ``status`` is ``ingesting``, or, unless it is ``closed_complete`` or
read-only, when its last Segment ends within ``LIVE_EDGE_S`` of now on the TAI clock
(real-time capture with wall-clock timestamps). ``?timerange=`` bounds either kind. One
listing page at most is read (1,000 Segments): a longer VOD window ends early, says so
in a comment and in ``X-Playlist-Truncated``, and the next window starts at its end.
Each playlist makes two calls of the read scope: GetFlow (404 for an unknown Flow, and
its status) and one ListSegments page."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tams.v1 import common_pb2, flows_pb2, objects_pb2, segments_pb2
from tams_server.gateway.errors import error_response
from tams_server.gateway.hls.master import Rendition, render_master_playlist
from tams_server.gateway.hls.playlist import (
    MediaPlaylist,
    MediaSegment,
    media_sequence_of,
    render_media_playlist,
)
from tams_server.gateway.hls.renditions import MULTI_FORMAT, rendition_of
from tams_server.gateway.hls.timing import bounds, end_of, now_tai_ns
from tams_server.gateway.query import MAX_PAGE_SIZE, Query
from tams_server.gateway.stubs import stubs_of
from tams_server.tai import NS_PER_S, format_timestamp

MEDIA_TYPE = "application/vnd.apple.mpegurl"
DEFAULT_WINDOW = 10
"""Segments in a live playlist unless ``?window=`` says otherwise."""
LIVE_EDGE_S = 30
"""A Flow whose last Segment ends this close to now (either side) is growing."""
CLOSED_STATUS = "closed_complete"
GROWING_STATUS = "ingesting"
# Query parameters a master playlist passes on to the media playlists it names.
CARRIED = ("access_token", "timerange", "live", "window")


def is_growing(flow: flows_pb2.Flow, now_ns: int) -> bool:
    """Whether a Flow (read with its timerange) is live by default (module doc)."""
    if flow.status == GROWING_STATUS:
        return True
    if flow.status == CLOSED_STATUS or flow.read_only:
        return False
    end = end_of(flow.timerange) if flow.HasField("timerange") else None
    return end is not None and abs(now_ns - end) <= LIVE_EDGE_S * NS_PER_S


def _nominal_ns(flow: flows_pb2.Flow, segments: list[MediaSegment]) -> int:
    """A Segment's nominal duration: the Flow's ``segment_duration``, else the first's."""
    rate = flow.segment_duration
    if rate.numerator > 0:
        return rate.numerator * NS_PER_S // (rate.denominator or 1)
    return segments[0].end_ns - segments[0].start_ns if segments else 0


def _url_of(urls: list[objects_pb2.GetUrl]) -> str | None:
    """The URL a player should use: the first presigned one, else the first."""
    for url in urls:
        if url.presigned:
            return url.url
    return urls[0].url if urls else None


def media_segment(segment: segments_pb2.Segment) -> MediaSegment | None:
    """A listed Segment as a playlist entry; None when it has no finite timerange or
    no URL to fetch it from (it cannot be played)."""
    found = bounds(segment.timerange)
    uri = _url_of(list(segment.get_urls))
    if found is None or uri is None:
        return None
    init_uri = None
    if segment.HasField("init_object") and segment.init_object.object_id:
        init_uri = _url_of(list(segment.init_object.get_urls))
        if init_uri is None:
            return None  # without its init Object the Segment cannot be decoded
    return MediaSegment(found[0], found[1], uri, init_uri)


async def media_playlist(request: Request) -> Response:
    """``GET /hls/flows/{flow_id}/index.m3u8``."""
    query = Query(request.query_params)
    choice = query.choice("live", {"true": True, "false": False, "auto": None}, None)
    window = query.integer("window", minimum=1, maximum=MAX_PAGE_SIZE) or DEFAULT_WINDOW
    timerange = query.text("timerange") or ""
    flow_id = request.path_params["flow_id"]
    stubs = stubs_of(request)
    flow = (
        await stubs.flows.GetFlow(
            flows_pb2.GetFlowRequest(flow_id=flow_id, include_timerange=choice is None)
        )
    ).flow
    live = is_growing(flow, now_tai_ns()) if choice is None else choice
    listed = await stubs.segments.ListSegments(
        segments_pb2.ListSegmentsRequest(
            flow_id=flow_id, timerange=timerange, reverse_order=live,
            page_size=window if live else MAX_PAGE_SIZE,
            get_url_options=objects_pb2.GetUrlOptions(),
        )
    )  # fmt: skip
    ordered = list(reversed(listed.segments)) if live else list(listed.segments)
    segments = [entry for s in ordered if (entry := media_segment(s)) is not None]
    nominal = _nominal_ns(flow, segments)
    sequence = media_sequence_of(segments[0].start_ns, nominal) if live and segments else 0
    text = render_media_playlist(
        MediaPlaylist(
            segments, live=live, media_sequence=sequence,
            empty_target_s=max(1, -(-nominal // NS_PER_S)),
        )
    )  # fmt: skip
    headers = {"Cache-Control": "no-cache" if live else "private, max-age=60"}
    if not live and listed.next_page_token and segments:
        following = f"[{format_timestamp(segments[-1].end_ns)}_"
        text += f"## truncated: the next window starts at timerange={following}\n"
        headers["X-Playlist-Truncated"] = "true"
    return Response(text, media_type=MEDIA_TYPE, headers=headers)


def _carried_query(request: Request) -> str:
    """The query string the master playlist's URIs carry (credentials, window)."""
    carried = [(k, v) for k, v in request.query_params.multi_items() if k in CARRIED]
    return f"?{urlencode(carried)}" if carried else ""


async def master_playlist(request: Request) -> Response:
    """``GET /hls/sources/{source_id}/master.m3u8``: the member Flows of the Source's
    multi-essence Flow as renditions (the Source's own video and audio Flows when it
    has no multi-essence Flow). Two calls of the read scope: the Source's Flows, then
    the members."""
    query = Query(request.query_params)
    query.choice("live", {"true": True, "false": False, "auto": None}, None)  # checked here
    query.integer("window", minimum=1, maximum=MAX_PAGE_SIZE)
    source_id = request.path_params["source_id"]
    stubs = stubs_of(request)
    own = await stubs.flows.ListFlows(
        flows_pb2.ListFlowsRequest(
            page_size=MAX_PAGE_SIZE, filter=flows_pb2.FlowFilter(source_id=source_id)
        )
    )
    multi = next((f for f in own.flows if f.format == MULTI_FORMAT), None)
    members = list(own.flows)
    if multi is not None:
        collected = await stubs.flows.ListFlows(
            flows_pb2.ListFlowsRequest(
                page_size=MAX_PAGE_SIZE,
                filter=flows_pb2.FlowFilter(collected_by_ids=[multi.id]),
            )
        )
        order = {item.id: index for index, item in enumerate(multi.flow_collection)}
        members = sorted(collected.flows, key=lambda f: order.get(f.id, len(order)))
    root = request.scope.get("root_path", "")
    carried = _carried_query(request)
    renditions: list[Rendition] = []
    for flow in members:
        rendition = rendition_of(flow, f"{root}/hls/flows/{flow.id}/index.m3u8{carried}")
        if rendition is not None:
            renditions.append(rendition)
    if not renditions:
        return error_response(
            404, common_pb2.ERROR_REASON_SOURCE_NOT_FOUND,
            f"the source {source_id} has no video or audio flow to play (or does not exist)",
            request,
        )  # fmt: skip
    return Response(
        render_master_playlist(renditions),
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "private, max-age=60"},
    )


ROUTES = [
    Route("/hls/flows/{flow_id}/index.m3u8", media_playlist, methods=["GET"]),
    Route("/hls/sources/{source_id}/master.m3u8", master_playlist, methods=["GET"]),
]
