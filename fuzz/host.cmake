# Host: the BTF reader (standard library and linux/btf.h only). src/host needs
# libmnl and is not configured by the fuzz preset, so its source is built here.
add_library(sockscope_host_btf STATIC ${PROJECT_SOURCE_DIR}/src/host/btf.cpp
            ${PROJECT_SOURCE_DIR}/src/host/btf_sock.cpp)
target_include_directories(sockscope_host_btf PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(sockscope_host_btf PUBLIC sockscope_core)
target_compile_options(sockscope_host_btf PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
sockscope_fuzz(btf_layout SOURCES btf_layout_fuzz.cpp LIBS sockscope_host_btf)

# ss's filter language: the parser, both evaluators and the bytecode compiler
# (standard library, <linux/inet_diag.h>, the registry for service names).
add_library(sockscope_host_filter STATIC
  ${PROJECT_SOURCE_DIR}/src/host/socket_filter.cpp
  ${PROJECT_SOURCE_DIR}/src/host/socket_filter_bytecode.cpp
  ${PROJECT_SOURCE_DIR}/src/host/socket_filter_eval.cpp
  ${PROJECT_SOURCE_DIR}/src/host/socket_filter_parse.cpp
  ${PROJECT_SOURCE_DIR}/src/host/socket_filter_terms.cpp
  ${PROJECT_SOURCE_DIR}/src/host/socket_state.cpp)
target_include_directories(sockscope_host_filter PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(sockscope_host_filter PUBLIC sockscope_registry sockscope_core)
target_compile_options(sockscope_host_filter PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
sockscope_fuzz(socket_filter SOURCES socket_filter_fuzz.cpp LIBS sockscope_host_filter)

# sock_diag messages as the connection log reads them (standard library, <linux/*.h>).
add_library(sockscope_host_diag STATIC ${PROJECT_SOURCE_DIR}/src/host/diag_message.cpp)
target_include_directories(sockscope_host_diag PUBLIC ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(sockscope_host_diag PUBLIC sockscope_core)
target_compile_options(sockscope_host_diag PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
sockscope_fuzz(diag_message SOURCES diag_message_fuzz.cpp LIBS sockscope_host_diag)
