# GoogleTest unit tests of the video metrics, report and overlays.
# Included from lib/Video/CMakeLists.txt at the end of the top-level
# directory (see there), so paths are spelled out from this file's folder.
if(NOT BUILD_TESTING OR NOT TARGET ResQVideo)
  return()
endif()
find_package(GTest CONFIG)
if(NOT GTest_FOUND)
  message(STATUS "GoogleTest not found: skipping the video unit tests")
  return()
endif()
include(GoogleTest)

add_executable(resq-video-unit-tests
  ${CMAKE_CURRENT_LIST_DIR}/MetricsTest.cpp
  ${CMAKE_CURRENT_LIST_DIR}/PreprocessTest.cpp
  ${CMAKE_CURRENT_LIST_DIR}/ReportTest.cpp
)
target_link_libraries(resq-video-unit-tests PRIVATE ResQVideo GTest::gtest_main)
set_target_properties(resq-video-unit-tests PROPERTIES
  RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/test/Video/unit)
gtest_discover_tests(resq-video-unit-tests DISCOVERY_TIMEOUT 60)
