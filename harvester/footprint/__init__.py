"""Sky footprints of frames (`s_region`) and the test "was the comet inside this frame?".

`regions` reads the footprint strings archives publish (IVOA STC-S `POLYGON`/`CIRCLE`/`BOX`, with
or without a frame name, several shapes for a multi-detector frame, CATCH's `ra:dec,...` list);
`test` decides containment and the offset from the footprint's edge, in bulk. Nothing here touches
the network or the catalog, and numpy/spherical_geometry are imported only when a test runs.
"""
