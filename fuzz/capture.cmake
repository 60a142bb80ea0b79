# Capture decoders (standard library only): one packet at a time, and whole files.
sockscope_fuzz(capture_packet SOURCES capture_packet_fuzz.cpp LIBS sockscope_capture_decode)
sockscope_fuzz(capture_file SOURCES capture_file_fuzz.cpp LIBS sockscope_capture_decode)
# The decompressors under the reader (gzip/zlib, zstd, LZ4: C libraries) on their own.
sockscope_fuzz(capture_decompress SOURCES capture_decompress_fuzz.cpp LIBS sockscope_capture_decode)
