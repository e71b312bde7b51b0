//! The runtime's `malloc`: `dlmalloc` zones, and a bump arena during runs.
//!
//! **The arena.** QuickJS allocates for every object, string and shape, and
//! asks for each block's usable size to account for it. A run's instance is
//! thrown away when the run ends, so its allocations need not be reusable:
//! during a run the first [`ARENA_BYTES`] come from a bump arena, where `free`
//! does nothing and `realloc` of the newest block grows in place. Past the
//! arena, blocks come from `dlmalloc` and are freed as usual. A run therefore
//! uses at most [`ARENA_BYTES`] more memory than it would without it.
//!
//! **The hot and cold zones.** After a run, Wasmtime resets the pages the
//! run wrote, finding them with the kernel's `PAGEMAP_SCAN`; it collects at
//! most 32 separate runs of written pages and discards the rest, which the
//! next run then faults in again (see `BENCHMARKS.md`). A run writes to the
//! objects it touches (reference counts, mostly) and these are scattered
//! through the snapshot's heap. So the heap is split: the *hot* zone holds
//! QuickJS's intrinsics, the prelude every run uses and the script; the
//! *cold* zone holds the web platform globals, which only some scripts use.
//! At the start of a run every page of the hot zone (up to its highest
//! block) is written once, so that it is one run of pages for the reset,
//! whatever the script touches.
//!
//! **Loading lean.** The snapshot's memory image holds every page from the
//! start of the heap to its last non-zero byte, and each instance maps most
//! of its image, so loading leaves as little behind as it can:
//!
//! - [`begin_load`] reserves memory for the hot and cold zones, and
//!   [`give_to_zones`] adds static data that loading no longer needs (the
//!   prelude's text), which the zones take first;
//! - work whose memory is all garbage afterwards (compiling the prelude, see
//!   `prelude.rs`) allocates in a third zone, the *scratch* zone, while
//!   [`use_scratch`] is on. Its memory lies above the spare memory;
//! - [`end_load`] zeroes the scratch zone's memory, which is then out of the
//!   image (above the heap's last non-zero byte), and puts the runs' arena
//!   there;
//! - while loading, a block freed in the hot or cold zone is zeroed, so that
//!   what the script's own compilation leaves free is zero pages too.
//!
//! These functions replace wasi-libc's, so QuickJS's C code and Rust's
//! standard library both allocate here. Every block is preceded by a
//! 16-byte header holding its alignment and requested size.

use core::ptr;
use std::cell::{Cell, UnsafeCell};

use dlmalloc::{Allocator, Dlmalloc};

/// Bytes a run may bump-allocate before falling back to `dlmalloc`.
const ARENA_BYTES: usize = 512 * 1024;
/// Memory set aside at load time for the hot and cold zones, below the
/// scratch zone. A heap that outgrows it still works: its zones then grow
/// above the scratch zone, whose zeroed memory is a hole in the image.
const ZONE_SPARE: usize = 1024 * 1024;
/// Alignment of ordinary blocks (`max_align_t` on wasm32 is 16).
const ALIGN: usize = 16;
/// The header before each ordinary block: `[align, size]`.
const HEADER: usize = ALIGN;
/// Wasm's page size, the unit memory grows in.
const WASM_PAGE: usize = 65536;
/// The host's page size, the unit the reset works in.
const HOST_PAGE: usize = 4096;
/// Separate segments a zone can remember (adjacent ones merge).
const MAX_SEGMENTS: usize = 64;

/// A zone's memory, remembered.
struct Zone {
    segments: [Cell<(usize, usize)>; MAX_SEGMENTS],
    count: Cell<usize>,
    /// The end of the highest block the zone has handed out: above it, in
    /// its newest segment, is free memory that no run need touch.
    high: Cell<usize>,
    /// Whether the zone takes memory from the spare memory first.
    uses_spare: bool,
}

impl Zone {
    const fn new(uses_spare: bool) -> Zone {
        Zone {
            segments: [const { Cell::new((0, 0)) }; MAX_SEGMENTS],
            count: Cell::new(0),
            high: Cell::new(0),
            uses_spare,
        }
    }

    fn contains(&self, p: usize) -> bool {
        self.ranges().any(|(start, end)| (start..end).contains(&p))
    }

    fn ranges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.segments[..self.count.get()].iter().map(Cell::get)
    }

    /// Record `[start, end)` as the zone's; false when it has no room left
    /// to (the memory is then not used: a zone must know all of its own).
    fn remember(&self, start: usize, end: usize) -> bool {
        let count = self.count.get();
        if let Some(last) = count.checked_sub(1).map(|i| &self.segments[i])
            && last.get().1 == start
        {
            last.set((last.get().0, end));
            return true;
        }
        if count == MAX_SEGMENTS {
            return false;
        }
        self.segments[count].set((start, end));
        self.count.set(count + 1);
        true
    }
}

/// Memory for a zone of at least `bytes` (which `dlmalloc` asks for in
/// whole pages): from the spare memory while it lasts, for the zones that
/// use it, else grown.
fn zone_memory(zone: &Zone, bytes: usize) -> Option<(usize, usize)> {
    let size = bytes.checked_next_multiple_of(WASM_PAGE)?;
    if zone.uses_spare {
        let [given, reserved] = &ZONES.spare;
        // Memory given back is taken whole: nothing else could use the rest.
        let (next, end) = given.get();
        if end - next >= size {
            given.set((end, end));
            return Some((next, end - next));
        }
        // The reserved memory a page at a time, so that a zone's successive
        // pieces are contiguous and `dlmalloc` merges them.
        let (next, end) = reserved.get();
        if end - next >= size {
            reserved.set((next + size, end));
            return Some((next, size));
        }
    }
    grow(size)
}

/// Grow linear memory by whole pages; `None` when it cannot.
fn grow(bytes: usize) -> Option<(usize, usize)> {
    let pages = bytes.div_ceil(WASM_PAGE);
    #[cfg(target_arch = "wasm32")]
    let previous = core::arch::wasm32::memory_grow(0, pages);
    #[cfg(not(target_arch = "wasm32"))]
    let previous = usize::MAX;
    (previous != usize::MAX).then(|| (previous * WASM_PAGE, pages * WASM_PAGE))
}

/// The current end of linear memory.
fn memory_end() -> usize {
    #[cfg(target_arch = "wasm32")]
    let pages = core::arch::wasm32::memory_size(0);
    #[cfg(not(target_arch = "wasm32"))]
    let pages = 0;
    pages * WASM_PAGE
}

/// A zone as its `dlmalloc` sees it.
struct ZoneRef(&'static Zone);

// SAFETY: the runtime is single-threaded.
unsafe impl Send for ZoneRef {}

// SAFETY: memory given to a zone is handed to its dlmalloc only, never
// released, and reported with its real size.
unsafe impl Allocator for ZoneRef {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        match zone_memory(self.0, size) {
            Some((base, size)) if self.0.remember(base, base + size) => (base as *mut u8, size, 0),
            _ => (ptr::null_mut(), 0, 0),
        }
    }
    fn remap(&self, _ptr: *mut u8, _old: usize, _new: usize, _can_move: bool) -> *mut u8 {
        ptr::null_mut()
    }
    fn free_part(&self, _ptr: *mut u8, _old: usize, _new: usize) -> bool {
        false
    }
    fn free(&self, _ptr: *mut u8, _size: usize) -> bool {
        false
    }
    fn can_release_part(&self, _flags: u32) -> bool {
        false
    }
    fn allocates_zeros(&self) -> bool {
        true
    }
    fn page_size(&self) -> usize {
        WASM_PAGE
    }
}

struct Zones {
    hot: Zone,
    cold: Zone,
    scratch: Zone,
    /// Memory for the hot and cold zones, each `[next, end)`: memory given
    /// back by `give_to_zones`, and the memory `begin_load` reserves.
    spare: [Cell<(usize, usize)>; 2],
}

// SAFETY: the runtime is single-threaded.
unsafe impl Sync for Zones {}

static ZONES: Zones = Zones {
    hot: Zone::new(true),
    cold: Zone::new(true),
    scratch: Zone::new(false),
    spare: [const { Cell::new((0, 0)) }; 2],
};

/// Where allocations go while a script loads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Hot,
    Cold,
    Scratch,
}

struct Heap {
    hot: Dlmalloc<ZoneRef>,
    cold: Dlmalloc<ZoneRef>,
    /// Used while loading only; its memory is zeroed by `end_load`, after
    /// which it is never used again.
    scratch: Dlmalloc<ZoneRef>,
    target: Target,
    /// Whether loading has ended (`end_load`).
    loaded: bool,
    /// The arena's base, set when loading ends (0: none).
    arena: usize,
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
    hot: Dlmalloc::new_with_allocator(ZoneRef(&ZONES.hot)),
    cold: Dlmalloc::new_with_allocator(ZoneRef(&ZONES.cold)),
    scratch: Dlmalloc::new_with_allocator(ZoneRef(&ZONES.scratch)),
    target: Target::Hot,
    loaded: false,
    arena: 0,
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

/// Start loading: reserve [`ZONE_SPARE`] bytes of memory for the hot and
/// cold zones.
pub(crate) fn begin_load() {
    let reserved = &ZONES.spare[1];
    if reserved.get().1 == 0
        && let Some((base, size)) = grow(ZONE_SPARE)
    {
        reserved.set((base, base + size));
    }
}

/// Give `[start, end)`, static data no longer used, to the hot and cold
/// zones, which take it before the reserved memory: its zero pages are then
/// filled rather than left as a hole in the memory image.
///
/// # Safety
///
/// Nothing may use that memory any more.
pub(crate) unsafe fn give_to_zones(start: usize, end: usize) {
    let start = start.next_multiple_of(ALIGN);
    if start < end {
        ZONES.spare[0].set((start, end));
    }
}

/// While `cold` is true, load-time allocations go to the cold zone.
pub(crate) fn use_cold_zone(cold: bool) {
    heap().target = if cold { Target::Cold } else { Target::Hot };
}

/// While `on` is true, load-time allocations go to the scratch zone, whose
/// memory `end_load` zeroes: nothing allocated then may outlive loading.
pub(crate) fn use_scratch(on: bool) {
    let heap = heap();
    heap.target = if on && !heap.loaded {
        Target::Scratch
    } else {
        Target::Hot
    };
}

/// Finish loading: zero the scratch zone's memory, and put the runs' arena
/// at its start, or in new memory when it is too small.
pub(crate) fn end_load() {
    let heap = heap();
    if heap.loaded {
        return;
    }
    heap.loaded = true;
    heap.target = Target::Hot;
    for (start, end) in ZONES.scratch.ranges() {
        // SAFETY: the scratch zone's memory, which nothing refers to once
        // loading ends.
        unsafe { ptr::write_bytes(start as *mut u8, 0, end - start) };
    }
    // The arena may take the scratch zone's first segment, and the memory
    // after it when that is the end of memory.
    heap.arena = match ZONES.scratch.ranges().next() {
        Some((start, end)) if end - start >= ARENA_BYTES => start,
        Some((start, end)) if end == memory_end() => {
            let more = ARENA_BYTES - (end - start);
            grow(more).map_or(0, |_| start)
        }
        _ => grow(ARENA_BYTES).map_or(0, |(base, _)| base),
    };
}

/// Start a run: open the arena, and write once to every page of the hot
/// zone (see the module docs).
pub(crate) fn begin_run() {
    let heap = heap();
    if heap.end != 0 || heap.arena == 0 {
        return;
    }
    heap.start = heap.arena;
    heap.next = heap.start;
    heap.end = heap.start + ARENA_BYTES;
    let high = ZONES.hot.high.get();
    for (start, end) in ZONES.hot.ranges() {
        for page in (start..end.min(high)).step_by(HOST_PAGE) {
            let byte = page as *mut u8;
            // SAFETY: the page is the hot zone's, in linear memory; the byte
            // is written back unchanged.
            unsafe { byte.write_volatile(byte.read_volatile()) };
        }
    }
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

    /// A block from a zone: `align` bytes of header room before it.
    fn zone_alloc(&mut self, size: usize, align: usize) -> *mut u8 {
        let align = align.max(ALIGN);
        let Some(total) = size.checked_add(align) else {
            return ptr::null_mut();
        };
        let (zone, zone_memory) = match self.target {
            Target::Hot => (&mut self.hot, &ZONES.hot),
            Target::Cold => (&mut self.cold, &ZONES.cold),
            Target::Scratch => (&mut self.scratch, &ZONES.scratch),
        };
        // SAFETY: a valid size, and `align` is a power of two.
        let base = unsafe { zone.malloc(total, align) };
        if base.is_null() {
            return base;
        }
        let high = &zone_memory.high;
        high.set(high.get().max(base as usize + total));
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
        self.zone_alloc(size, ALIGN)
    }

    fn free(&mut self, p: *mut u8) {
        if p.is_null() || self.in_arena(p) {
            return;
        }
        let (align, size) = header(p);
        let address = p as usize;
        let zone = if ZONES.scratch.contains(address) {
            if self.loaded {
                // The scratch zone's memory is zero now: nothing to free.
                return;
            }
            &mut self.scratch
        } else {
            if crate::loading() {
                // SAFETY: the block holds `size` bytes its owner gave up.
                unsafe { ptr::write_bytes(p, 0, size) };
            }
            if ZONES.cold.contains(address) {
                &mut self.cold
            } else {
                &mut self.hot
            }
        };
        // SAFETY: `p` came from `zone_alloc` of this zone with this header.
        unsafe { zone.free(p.sub(align), size + align, align) };
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
    // Over-aligned blocks are rare: take them from a zone.
    heap().zone_alloc(size, align)
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
