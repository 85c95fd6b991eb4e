# Fails unless README.md contains examples/fit_line.cpp verbatim, so the README's training loop
# is always the example that CI compiles and runs.
file(READ ${SOURCE_DIR}/README.md readme)
file(READ ${SOURCE_DIR}/examples/fit_line.cpp example)
string(FIND "${readme}" "```cpp\n${example}```" position)
if(position EQUAL -1)
  message(FATAL_ERROR "README.md does not contain examples/fit_line.cpp verbatim")
endif()
