# IPFIX export (bench/ipfix_compare.sh): the UDP exporter's pace apart from a capture.
add_executable(bench_ipfix_pace ${CMAKE_CURRENT_LIST_DIR}/ipfix_pace.cpp)
target_link_libraries(bench_ipfix_pace PRIVATE sockscope_ipfix)
