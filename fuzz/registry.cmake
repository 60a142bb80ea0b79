# services(5) files are the registry's untrusted input. The parser's objects
# (sockscope_registry_parse) are instrumented by fuzz/CMakeLists; the label
# index around them is instrumented here.
target_compile_options(sockscope_registry PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
sockscope_fuzz(services SOURCES services_fuzz.cpp LIBS sockscope_registry)
