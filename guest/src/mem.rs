//! `memcpy`, `memmove` and `memset` as Wasm's bulk-memory instructions.
//!
//! wasi-libc's versions are C loops, a few fuel a byte (fuel counts every
//! instruction), and QuickJS calls them for every string and buffer it
//! copies. With the bulk-memory feature, LLVM lowers Rust's copy and fill
//! intrinsics to `memory.copy` and `memory.fill` (one instruction each,
//! whatever the length), so these definitions, which replace libc's, cost
//! the same for 10 bytes or 1 MB. Out-of-bounds accesses trap, as a bad
//! `memcpy` would fault.

#[unsafe(no_mangle)]
unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract (non-overlapping, valid for `n` bytes);
    // `memory.copy` also handles overlap.
    unsafe { core::ptr::copy(src, dest, n) };
    dest
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract (valid for `n` bytes).
    unsafe { core::ptr::copy(src, dest, n) };
    dest
}

#[unsafe(no_mangle)]
unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract (valid for `n` bytes).
    unsafe { core::ptr::write_bytes(dest, c as u8, n) };
    dest
}
