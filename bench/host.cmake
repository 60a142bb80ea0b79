# Host: the dump/roles/owner-scan parts (Google Benchmark), and a helper that
# holds many loopback connections for bench/host_sockets.sh (whole commands
# against ss, netstat and lsof).
sockscope_bench(bench_host_dump SOURCES host_dump_bench.cpp LIBS sockscope_host)
sockscope_bench(bench_host_owners SOURCES host_owners_bench.cpp LIBS sockscope_host)
add_executable(bench_host_hold ${CMAKE_CURRENT_LIST_DIR}/host_hold.cpp)
# An ss filter expression in the kernel vs in user space vs ss (bench/host_filter.sh).
add_executable(bench_host_filter ${CMAKE_CURRENT_LIST_DIR}/host_filter_dump.cpp)
target_link_libraries(bench_host_filter PRIVATE sockscope_host)
# The connection log (bench/connlog_compare.sh): a burst generator, and the
# log's memory per live socket.
add_executable(bench_connlog_burst ${CMAKE_CURRENT_LIST_DIR}/connlog_burst.cpp)
add_executable(bench_connlog_memory ${CMAKE_CURRENT_LIST_DIR}/connlog_memory.cpp)
target_link_libraries(bench_connlog_memory PRIVATE sockscope_host)
target_include_directories(bench_connlog_memory PRIVATE ${PROJECT_SOURCE_DIR}/src)
