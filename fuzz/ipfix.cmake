# The IPFIX encoder and the decoder the tests read it with (standard library only).
sockscope_fuzz(ipfix SOURCES ipfix_fuzz.cpp LIBS sockscope_ipfix_encode)
target_compile_options(sockscope_ipfix_encode PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
