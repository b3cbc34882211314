# Shared by the embedding scripts: writes generated files only when their text changes, so an
# unchanged core or page does not trigger a rebuild of everything that includes them.
function(pw_write_if_changed path content)
  set(old "")
  if(EXISTS "${path}")
    file(READ "${path}" old)
  endif()
  if(NOT old STREQUAL "${content}")
    file(WRITE "${path}" "${content}")
  endif()
endfunction()
