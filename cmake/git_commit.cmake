# Run at every build (the ccopy_git_commit target): writes OUT, the header that names the commit
# the binary is built from, with "-dirty" when tracked files differ from it, and rewrites it only
# when that changed, so that a build after a new commit says so and an unchanged one recompiles
# nothing.
execute_process(COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY "${SOURCE_DIR}" OUTPUT_VARIABLE commit
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT commit)
  set(commit "unknown")
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no
    WORKING_DIRECTORY "${SOURCE_DIR}" OUTPUT_VARIABLE changes ERROR_QUIET)
  if(changes)
    string(APPEND commit "-dirty")
  endif()
endif()
set(text "// Generated at build time by cmake/git_commit.cmake.\n#pragma once\n\nnamespace ccopy::build {\ninline constexpr const char* git_commit = \"${commit}\";\n}  // namespace ccopy::build\n")
set(old "")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
