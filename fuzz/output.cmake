# Output text: the escaping of error lines and table cells (standard library and
# {fmt}, header-only). src/output is not configured by the fuzz preset, so the one
# source is built here.
find_package(fmt REQUIRED)
add_library(sockscope_output_text STATIC ${PROJECT_SOURCE_DIR}/src/output/text.cpp)
target_include_directories(sockscope_output_text PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(sockscope_output_text PUBLIC fmt::fmt-header-only)
target_compile_options(sockscope_output_text PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
sockscope_fuzz(error_text SOURCES error_text_fuzz.cpp LIBS sockscope_output_text sockscope_core)
