# LS_CHECK_DNNL(MAJOR, MINOR)
# ---------------------------
# Find oneDNN's C API (header oneapi/dnnl/dnnl.h and -ldnnl) and require a
# version of at least MAJOR.MINOR, read from DNNL_VERSION_MAJOR/MINOR.
# Debian's libdnnl-dev ships no pkg-config file, hence this macro.
# Sets DNNL_LIBS.
AC_DEFUN([LS_CHECK_DNNL], [
  AC_CHECK_HEADER([oneapi/dnnl/dnnl.h], [],
    [AC_MSG_ERROR([oneDNN header oneapi/dnnl/dnnl.h not found (Debian: apt-get install libdnnl-dev)])])
  AC_MSG_CHECKING([for oneDNN >= $1.$2])
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#include <oneapi/dnnl/dnnl_version.h>
#if DNNL_VERSION_MAJOR < $1 || (DNNL_VERSION_MAJOR == $1 && DNNL_VERSION_MINOR < $2)
#error oneDNN too old
#endif
]], [[]])], [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no])
     AC_MSG_ERROR([oneDNN >= $1.$2 is required (Debian: apt-get install libdnnl-dev)])])
  ls_save_LIBS=$LIBS
  LIBS=
  AC_SEARCH_LIBS([dnnl_engine_create], [dnnl], [],
    [AC_MSG_ERROR([libdnnl not found (Debian: apt-get install libdnnl-dev)])])
  DNNL_LIBS=$LIBS
  LIBS=$ls_save_LIBS
  AC_SUBST([DNNL_LIBS])
])
