# Capture: the synthetic traffic generator (1 GB benchmark file, the shipped sample),
# the bare read()/libpcap loops the command is compared with, and the decode/flow
# table micro-benchmarks. bench/capture_compare.sh runs the whole-command comparison.
if(TARGET sockscope_capture_writer)
  add_executable(capture_gen capture_gen.cpp)
  target_link_libraries(capture_gen PRIVATE sockscope_capture_writer)
endif()
if(TARGET sockscope_capture)
  add_executable(capture_loops capture_loops.cpp)
  target_link_libraries(capture_loops PRIVATE sockscope_capture)
endif()
# capture_loops calls libpcap itself (the bare pcap_next_ex loop).
pkg_check_modules(CAPTURE_BENCH_PCAP QUIET IMPORTED_TARGET libpcap)
if(TARGET capture_loops AND TARGET PkgConfig::CAPTURE_BENCH_PCAP)
  target_link_libraries(capture_loops PRIVATE PkgConfig::CAPTURE_BENCH_PCAP)
endif()
if(TARGET sockscope_capture_writer)
  sockscope_bench(bench_capture SOURCES capture_bench.cpp LIBS sockscope_capture_writer)
endif()
if(TARGET capture_loops)
  target_include_directories(capture_loops PRIVATE ${PROJECT_SOURCE_DIR}/src)
endif()
