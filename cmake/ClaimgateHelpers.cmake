# One library per component, each with its tests beside it (Abseil's absl_cc_library / absl_cc_test).
include_guard(GLOBAL)

# claimgate_cc_library(NAME name SRCS ... HDRS ... DEPS ...)
function(claimgate_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;HDRS;DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SRCS} ${ARG_HDRS})
  target_include_directories(${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
  target_compile_options(${ARG_NAME} PRIVATE ${CLAIMGATE_WARNINGS})
endfunction()

# claimgate_cc_test(NAME name SRCS ... DEPS ... [APACHE_KAFKA]): one GoogleTest binary registered
# with CTest. APACHE_KAFKA: its tests need the Apache Kafka of the fixture apache_kafka (started
# once per run; tests/testing/test_broker.h reads its bootstrap servers from the file named by
# $CLAIMGATE_APACHE_KAFKA).
function(claimgate_cc_test)
  cmake_parse_arguments(ARG "APACHE_KAFKA" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_options(${ARG_NAME} PRIVATE ${CLAIMGATE_WARNINGS})
  target_compile_definitions(${ARG_NAME} PRIVATE
    CLAIMGATE_SOURCE_DIR="${PROJECT_SOURCE_DIR}" CLAIMGATE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  set(props TIMEOUT 600)
  if(ARG_APACHE_KAFKA)
    list(APPEND props FIXTURES_REQUIRED apache_kafka
         ENVIRONMENT CLAIMGATE_APACHE_KAFKA=${PROJECT_BINARY_DIR}/apache-kafka/bootstrap)
  endif()
  gtest_discover_tests(${ARG_NAME} DISCOVERY_TIMEOUT 60 PROPERTIES ${props})
endfunction()
