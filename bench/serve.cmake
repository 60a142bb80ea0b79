# The server (bench/serve.sh): a load generator of concurrent keep-alive clients.
add_executable(bench_serve_load ${CMAKE_CURRENT_LIST_DIR}/serve_load.cpp)
target_link_libraries(bench_serve_load PRIVATE sockscope_serve)
