"""HLS playback of the store's Flows: media and master playlists built from the gRPC
API's listings (pure renderers apart from the routes that call the server), and a
small player page using hls.js served from a local install."""
