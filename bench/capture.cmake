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
