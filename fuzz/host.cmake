# Host: the BTF reader (standard library and linux/btf.h only). src/host needs
# libmnl and is not configured by the fuzz preset, so its source is built here.
add_library(sockscope_host_btf STATIC ${PROJECT_SOURCE_DIR}/src/host/btf.cpp)
target_include_directories(sockscope_host_btf PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(sockscope_host_btf PUBLIC sockscope_core)
target_compile_options(sockscope_host_btf PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
sockscope_fuzz(btf_layout SOURCES btf_layout_fuzz.cpp LIBS sockscope_host_btf)
