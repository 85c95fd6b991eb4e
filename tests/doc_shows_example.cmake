# Fails unless DOC contains EXAMPLE verbatim in a ```cpp block, so the code a page shows is
# always a program that CI compiles and runs. Paths are relative to SOURCE_DIR.
file(READ ${SOURCE_DIR}/${DOC} doc)
file(READ ${SOURCE_DIR}/${EXAMPLE} example)
string(FIND "${doc}" "```cpp\n${example}```" position)
if(position EQUAL -1)
  message(FATAL_ERROR "${DOC} does not contain ${EXAMPLE} verbatim")
endif()
