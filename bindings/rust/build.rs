//! Finds librefold for linking, in this order:
//!
//! 1. `REFOLD_LIB_DIR`: a directory holding `librefold.so`;
//! 2. `REFOLD_BUILD_DIR`: a CMake build directory of refold (the library is
//!    at its top);
//! 3. `pkg-config --libs refold` (an installed refold, or a build directory
//!    on `PKG_CONFIG_PATH`, whose `refold-uninstalled.pc` pkg-config prefers);
//! 4. otherwise `-lrefold` alone, for a library in the linker's default path.
//!
//! With 1 or 2 this crate's own tests and examples get an rpath to that
//! directory; programs that depend on the crate find the library at run time
//! through the usual means (an install, or `LD_LIBRARY_PATH`).
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    for var in ["REFOLD_LIB_DIR", "REFOLD_BUILD_DIR", "PKG_CONFIG_PATH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let dir = env::var_os("REFOLD_LIB_DIR")
        .or_else(|| env::var_os("REFOLD_BUILD_DIR"))
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    if let Some(dir) = dir {
        if !dir.join("librefold.so").exists() {
            println!("cargo:warning=no librefold.so in {}", dir.display());
        }
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=dylib=refold");
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
        println!("cargo:root={}", dir.display());
        return;
    }
    match Command::new("pkg-config")
        .args(["--libs", "refold"])
        .output()
    {
        Ok(out) if out.status.success() => {
            let flags = String::from_utf8_lossy(&out.stdout).into_owned();
            for flag in flags.split_whitespace() {
                if let Some(path) = flag.strip_prefix("-L") {
                    println!("cargo:rustc-link-search=native={path}");
                } else if let Some(lib) = flag.strip_prefix("-l") {
                    println!("cargo:rustc-link-lib=dylib={lib}");
                } else {
                    println!("cargo:rustc-link-arg={flag}");
                }
            }
        }
        _ => {
            println!(
                "cargo:warning=refold not found through REFOLD_LIB_DIR, REFOLD_BUILD_DIR or pkg-config; \
                 linking -lrefold from the default path"
            );
            println!("cargo:rustc-link-lib=dylib=refold");
        }
    }
}
