//! `loader.memory-image`, written by hand rather than generated.
//!
//! After `load` the host snapshots the instance's linear memory into the
//! script's pre-initialised state. The export hands the memory over in place:
//! it returns a `list<u8>` that starts at address 0 and spans the whole
//! memory, which the canonical ABI lifts by copying it to the host. Nothing
//! is allocated in the guest, so the image is exactly the state `load` left.

/// The `(pointer, length)` pair the canonical ABI reads the result from.
static mut RETURN_AREA: [u32; 2] = [0, 0];

/// `claimscript:script/loader#memory-image`.
#[unsafe(export_name = "claimscript:script/loader@0.2.0#memory-image")]
extern "C" fn memory_image() -> *mut u32 {
    let bytes = core::arch::wasm32::memory_size(0) * 65536;
    let area = core::ptr::addr_of_mut!(RETURN_AREA);
    // SAFETY: the runtime is single-threaded and nothing else touches the
    // return area.
    unsafe { area.write([0, bytes as u32]) };
    area.cast()
}

/// The post-return hook of `memory-image`: nothing was allocated.
#[unsafe(export_name = "cabi_post_claimscript:script/loader@0.2.0#memory-image")]
extern "C" fn memory_image_post_return(_area: *mut u32) {}
