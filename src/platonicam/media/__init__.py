"""The media gateway's pure cores: parameter-set parsing, fMP4 muxing, LL-HLS parts and playlists.

``codecs`` reads what a muxer needs from H.264/H.265 parameter sets and builds
the RFC 6381 codec strings; ``fmp4`` writes init segments and ``moof``/``mdat``
fragments; ``parts`` cuts access units into LL-HLS parts and segments; ``hls``
renders media and multivariant playlists and decides blocking reloads. All of
them are pure functions and data over bytes: no I/O, no event loop. Import the
submodules directly; this package imports nothing on purpose.
"""
