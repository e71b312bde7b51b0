//! The runtime's `malloc`: `dlmalloc`, plus a bump arena during runs.
//!
//! QuickJS allocates for every object, string and shape, and asks for each
//! block's usable size to account for it; in a run that parses a few KB of
//! context this was a fifth of the guest's time. A run's instance is thrown
//! away when the run ends, so its allocations need not be reusable: during a
//! run the first [`ARENA_BYTES`] come from a bump arena, where `free` does
//! nothing and `realloc` of the newest block grows in place. Past the arena,
//! and while a script is loaded (the state that goes into the snapshot),
//! blocks come from `dlmalloc` and are freed as usual. A run therefore uses
//! at most [`ARENA_BYTES`] more memory than it would without the arena.
//!
//! These functions replace wasi-libc's, so QuickJS's C code and Rust's
//! standard library both allocate here. Every block is preceded by a
//! 16-byte header holding its alignment and requested size.

use core::ptr;
use std::cell::UnsafeCell;

use dlmalloc::Dlmalloc;

/// Bytes a run may bump-allocate before falling back to `dlmalloc`.
const ARENA_BYTES: usize = 512 * 1024;
/// Alignment of ordinary blocks (`max_align_t` on wasm32 is 16).
const ALIGN: usize = 16;
/// The header before each ordinary block: `[align, size]`.
const HEADER: usize = ALIGN;

struct Heap {
    fallback: Dlmalloc,
    /// The arena's memory, reserved at load time (0: none).
    reserved: usize,
    /// The run's arena: blocks in `[start, end)` are the arena's, `[next,
    /// end)` is free. Empty (all zero) while a script is loaded.
    start: usize,
    next: usize,
    end: usize,
    /// The newest arena block, which `realloc` may grow in place.
    last: usize,
}

struct Global(UnsafeCell<Heap>);

// SAFETY: the runtime is single-threaded.
unsafe impl Sync for Global {}

static HEAP: Global = Global(UnsafeCell::new(Heap {
    fallback: Dlmalloc::new(),
    reserved: 0,
    start: 0,
    next: 0,
    end: 0,
    last: 0,
}));

fn heap() -> &'static mut Heap {
    // SAFETY: single-threaded, and no function here re-enters another while
    // it holds the reference.
    unsafe { &mut *HEAP.0.get() }
}

/// Reserve the arena while the script is loaded, so that it is part of the
/// snapshot's memory (as zero pages, which cost nothing in the image) and a
/// run does not have to grow memory for it.
pub(crate) fn reserve_arena() {
    let heap = heap();
    if heap.reserved != 0 {
        return;
    }
    // SAFETY: a valid size and alignment.
    let arena = unsafe { heap.fallback.malloc(ARENA_BYTES, ALIGN) };
    heap.reserved = arena as usize;
}

/// Open the arena for a run; called at the start of `run`.
pub(crate) fn begin_run() {
    let heap = heap();
    if heap.end != 0 || heap.reserved == 0 {
        return;
    }
    heap.start = heap.reserved;
    heap.next = heap.start;
    heap.end = heap.start + ARENA_BYTES;
}

/// `[align, size]` stored before the block at `p`.
fn header(p: *mut u8) -> (usize, usize) {
    // SAFETY: every block handed out has its header in the 16 bytes before.
    unsafe {
        let words = (p as usize - HEADER) as *const usize;
        (words.read(), words.add(1).read())
    }
}

fn write_header(p: usize, align: usize, size: usize) {
    // SAFETY: `p - HEADER .. p` belongs to the block being handed out.
    unsafe {
        let words = (p - HEADER) as *mut usize;
        words.write(align);
        words.add(1).write(size);
    }
}

impl Heap {
    fn in_arena(&self, p: *mut u8) -> bool {
        (self.start..self.end).contains(&(p as usize))
    }

    fn bump(&mut self, size: usize) -> *mut u8 {
        let Some(total) = size.checked_add(HEADER + ALIGN - 1) else {
            return ptr::null_mut();
        };
        let total = total & !(ALIGN - 1);
        if self.end - self.next < total {
            return ptr::null_mut();
        }
        let block = self.next + HEADER;
        write_header(block, ALIGN, size);
        self.next += total;
        self.last = block;
        block as *mut u8
    }

    /// A block from `dlmalloc`: `align` bytes of header room before it.
    fn fallback_alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        let align = align.max(ALIGN);
        let Some(total) = size.checked_add(align) else {
            return ptr::null_mut();
        };
        // SAFETY: a valid size, and `align` is a power of two.
        let base = unsafe { self.fallback.malloc(total, align) };
        if base.is_null() {
            return base;
        }
        let block = base as usize + align;
        write_header(block, align, size);
        block as *mut u8
    }

    fn malloc(&mut self, size: usize) -> *mut u8 {
        if self.end != 0 {
            let p = self.bump(size);
            if !p.is_null() {
                return p;
            }
        }
        self.fallback_alloc(size, ALIGN)
    }

    fn free(&mut self, p: *mut u8) {
        if p.is_null() || self.in_arena(p) {
            return;
        }
        let (align, size) = header(p);
        // SAFETY: `p` came from `fallback_alloc` with this header.
        unsafe { self.fallback.free(p.sub(align), size + align, align) };
    }

    fn realloc(&mut self, p: *mut u8, size: usize) -> *mut u8 {
        if p.is_null() {
            return self.malloc(size);
        }
        let (_, old) = header(p);
        if self.in_arena(p) && p as usize == self.last {
            // The newest arena block grows or shrinks in place when it fits.
            let end = (p as usize).saturating_add(size).saturating_add(ALIGN - 1) & !(ALIGN - 1);
            if end <= self.end {
                write_header(p as usize, ALIGN, size);
                self.next = end;
                return p;
            }
        }
        if size <= old && self.in_arena(p) {
            write_header(p as usize, ALIGN, size);
            return p;
        }
        let new = self.malloc(size);
        if !new.is_null() {
            // SAFETY: both blocks hold at least `min(old, size)` bytes.
            unsafe { ptr::copy_nonoverlapping(p, new, old.min(size)) };
            self.free(p);
        }
        new
    }
}

#[unsafe(no_mangle)]
extern "C" fn malloc(size: usize) -> *mut u8 {
    heap().malloc(size)
}

#[unsafe(no_mangle)]
extern "C" fn __libc_malloc(size: usize) -> *mut u8 {
    heap().malloc(size)
}

#[unsafe(no_mangle)]
extern "C" fn free(p: *mut u8) {
    heap().free(p)
}

#[unsafe(no_mangle)]
extern "C" fn __libc_free(p: *mut u8) {
    heap().free(p)
}

#[unsafe(no_mangle)]
extern "C" fn calloc(count: usize, size: usize) -> *mut u8 {
    let Some(bytes) = count.checked_mul(size) else {
        return ptr::null_mut();
    };
    let p = heap().malloc(bytes);
    if !p.is_null() {
        // SAFETY: `p` holds `bytes` bytes; reused memory is not zero.
        unsafe { ptr::write_bytes(p, 0, bytes) };
    }
    p
}

#[unsafe(no_mangle)]
extern "C" fn __libc_calloc(count: usize, size: usize) -> *mut u8 {
    calloc(count, size)
}

#[unsafe(no_mangle)]
extern "C" fn realloc(p: *mut u8, size: usize) -> *mut u8 {
    heap().realloc(p, size)
}

#[unsafe(no_mangle)]
extern "C" fn malloc_usable_size(p: *mut u8) -> usize {
    if p.is_null() { 0 } else { header(p).1 }
}

#[unsafe(no_mangle)]
extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut u8 {
    if align <= ALIGN {
        return heap().malloc(size);
    }
    if !align.is_power_of_two() {
        return ptr::null_mut();
    }
    // Over-aligned blocks are rare: take them from dlmalloc.
    heap().fallback_alloc(size, align)
}

#[unsafe(no_mangle)]
extern "C" fn posix_memalign(out: *mut *mut u8, align: usize, size: usize) -> i32 {
    const ENOMEM: i32 = 48; // WASI errno values
    const EINVAL: i32 = 28;
    if !align.is_power_of_two() || align < core::mem::size_of::<usize>() {
        return EINVAL;
    }
    let p = aligned_alloc(align, size);
    if p.is_null() {
        return ENOMEM;
    }
    // SAFETY: the caller passes a writable pointer.
    unsafe { out.write(p) };
    0
}
