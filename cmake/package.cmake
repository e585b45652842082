# What lets other projects use an installed fdiwn: a CMake package
# (find_package(fdiwn 0.2) gives fdiwn::fdiwn and fdiwn_WEIGHTS_DIR) and a
# pkg-config file; and CPack's Debian package of the whole install.
include(CMakePackageConfigHelpers)

# The licence and a changelog, where Debian looks for them (compressed as
# its policy has it: gzip -9n, no name or time stamp in the header).
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME copyright)
configure_file(cmake/changelog.in ${CMAKE_BINARY_DIR}/debian/changelog @ONLY)
execute_process(COMMAND gzip -9n -c ${CMAKE_BINARY_DIR}/debian/changelog
                OUTPUT_FILE ${CMAKE_BINARY_DIR}/debian/changelog.gz)
install(FILES ${CMAKE_BINARY_DIR}/debian/changelog.gz DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(FDIWN_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/fdiwn)
install(EXPORT fdiwnTargets NAMESPACE fdiwn:: DESTINATION ${FDIWN_CMAKE_DIR})
configure_package_config_file(cmake/fdiwnConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cmake/fdiwnConfig.cmake
  INSTALL_DESTINATION ${FDIWN_CMAKE_DIR}
  PATH_VARS CMAKE_INSTALL_DATADIR)
# 0.x: a new minor version may change the API.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/fdiwnConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cmake/fdiwnConfig.cmake
              ${CMAKE_BINARY_DIR}/cmake/fdiwnConfigVersion.cmake
        DESTINATION ${FDIWN_CMAKE_DIR})

# pkg-config: LibTorch has no .pc file, so its include folders (model.hpp
# and weights.hpp use it) are written in as this build found them.
# The prefix is found from the file's own place (${pcfiledir}), so that
# `cmake --install --prefix` anywhere, or a package, gets a right one.
set(FDIWN_PC_TORCH_CFLAGS "")
foreach(dir ${TORCH_INCLUDE_DIRS})
  if(NOT dir STREQUAL "/usr/include")
    string(APPEND FDIWN_PC_TORCH_CFLAGS " -I${dir}")
  endif()
endforeach()
file(RELATIVE_PATH FDIWN_PC_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" FDIWN_PC_PREFIX "${FDIWN_PC_PREFIX}")
configure_file(cmake/fdiwn.pc.in ${CMAKE_BINARY_DIR}/fdiwn.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/fdiwn.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The Debian package (scripts/package.sh; `cpack -G DEB` in a build tree):
# everything `cmake --install` puts in place, under /usr. Its dependencies
# are found by dpkg-shlibdeps from the libraries the binaries link, not
# listed by hand.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fdiwn)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "fdiwn developers <fdiwn@users.noreply.github.com>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "single-image super-resolution (FDIWN, x2/x3/x4) on the CPU")
# (Lines under 80 characters: lintian's rule for the control file.)
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
  "fdiwn upscales images x2, x3 or x4 with FDIWN (Gao et al., AAAI 2022)"
  "through LibTorch on the CPU, with the authors' weights included. It reads"
  "and writes PNG, JPEG, WebP, TIFF, HEIC and AVIF, batches folders, runs"
  "video frames through ffmpeg, and scores PSNR/SSIM in the paper's protocol."
  "The package holds the command, its man page and bash completion, the"
  "weights, and the C++ library with its headers, CMake package and"
  "pkg-config file.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Building against the headers needs the development files of the two
# libraries they use; the video pipeline needs ffmpeg.
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libtorch-dev, libopencv-dev, ffmpeg")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
# ldconfig runs by a trigger, as Debian policy has it (CPack also writes
# maintainer scripts that call it: lintian's maintscript-calls-ldconfig).
file(WRITE ${CMAKE_BINARY_DIR}/debian/triggers "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_BINARY_DIR}/debian/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
include(CPack)
