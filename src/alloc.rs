//! The wasm's memory allocator: power-of-two size classes, each with a free list, carved from
//! memory the host grows. It replaces std's dlmalloc in the browser (`browser/mod.rs`): about a
//! tenth of its code, and an allocation or a free is a few instructions instead of a search.
//!
//! What it gives up: a freed block is only reused by a request of its own class (no splitting
//! or coalescing), and a block is up to twice the size asked for. The SDK's memory is a few
//! fixed tables and buffers reused per frame, so each class settles at its peak and memory stays
//! flat in the number of events (the browser benchmark prints it at 20,000 and 200,000).
//!
//! The logic takes the memory it may carve from a `grow` function, so it is tested natively on a
//! plain buffer.

use core::alloc::Layout;
use core::ops::Range;

/// Blocks are at least this large: a free block holds the next free block's address.
const MIN_CLASS: u32 = 3;
/// Blocks are aligned to their size up to this; larger alignments are carved fresh.
const BLOCK_ALIGN: usize = 16;
const CLASSES: usize = usize::BITS as usize;

/// The allocator's state: a free list per class and the unused end of the last grown region.
pub struct SizeClasses {
    free: [usize; CLASSES],
    next: usize,
    end: usize,
}

impl Default for SizeClasses {
    fn default() -> Self {
        Self::new()
    }
}

impl SizeClasses {
    /// Nothing carved yet.
    pub const fn new() -> Self {
        SizeClasses {
            free: [0; CLASSES],
            next: 0,
            end: 0,
        }
    }

    /// The class of a layout: the power of two that holds its size and alignment, or `None`
    /// when no block can.
    fn class(layout: Layout) -> Option<u32> {
        let size = layout.size().max(layout.align()).max(1 << MIN_CLASS);
        let class = size.checked_next_power_of_two()?.trailing_zeros();
        ((class as usize) < CLASSES).then_some(class)
    }

    /// A block for `layout`, or null when `grow` cannot provide the memory. `grow(bytes)`
    /// returns a new region of at least `bytes` bytes, or `None`.
    ///
    /// # Safety
    /// Every address `grow` returns must be valid for writes of the bytes asked for, and owned by
    /// this allocator from then on.
    pub unsafe fn alloc(
        &mut self,
        layout: Layout,
        grow: impl FnOnce(usize) -> Option<Range<usize>>,
    ) -> *mut u8 {
        let Some(class) = Self::class(layout) else {
            return core::ptr::null_mut();
        };
        let head = self.free[class as usize];
        if head != 0 && head % layout.align() == 0 {
            // SAFETY: a free block's first word holds the next free block of its class.
            self.free[class as usize] = unsafe { *(head as *const usize) };
            return head as *mut u8;
        }
        self.carve(
            1 << class,
            layout.align().max(BLOCK_ALIGN.min(1 << class)),
            grow,
        )
    }

    /// A fresh block of `size` bytes aligned to `align` from the unused end, growing it first
    /// when it is too short.
    fn carve(
        &mut self,
        size: usize,
        align: usize,
        grow: impl FnOnce(usize) -> Option<Range<usize>>,
    ) -> *mut u8 {
        let fits = |next: usize, end: usize| {
            let start = next.checked_add(align - 1)? & !(align - 1);
            (start.checked_add(size)? <= end).then_some(start)
        };
        let start = match fits(self.next, self.end) {
            Some(start) => start,
            None => {
                let Some(want) = size.checked_add(align) else {
                    return core::ptr::null_mut();
                };
                let Some(region) = grow(want) else {
                    return core::ptr::null_mut();
                };
                // A region that follows the last one extends it; else what was left of the last
                // one stays unused.
                if region.start != self.end {
                    self.next = region.start;
                }
                self.end = region.end;
                match fits(self.next, self.end) {
                    Some(start) => start,
                    None => return core::ptr::null_mut(),
                }
            }
        };
        self.next = start + size;
        start as *mut u8
    }

    /// Returns a block to its class's free list.
    ///
    /// # Safety
    /// `ptr` came from `alloc` or `realloc` of this allocator with this `layout`, and is not used
    /// again.
    pub unsafe fn dealloc(&mut self, ptr: *mut u8, layout: Layout) {
        let Some(class) = Self::class(layout) else {
            return;
        };
        // SAFETY: the block is ours and at least a word long (MIN_CLASS), and free now.
        unsafe { *(ptr as *mut usize) = self.free[class as usize] };
        self.free[class as usize] = ptr as usize;
    }

    /// Resizes a block: in place when the new size is of the same class, else moved.
    ///
    /// # Safety
    /// As `dealloc` for `ptr` and `layout`; `new_size` rounded up to `layout.align()` does not
    /// overflow `isize`.
    pub unsafe fn realloc(
        &mut self,
        ptr: *mut u8,
        layout: Layout,
        new_size: usize,
        grow: impl FnOnce(usize) -> Option<Range<usize>>,
    ) -> *mut u8 {
        // SAFETY: the caller promises the new layout is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        if Self::class(layout) == Self::class(new_layout) {
            return ptr;
        }
        // SAFETY: as for `alloc`; the old block stays valid until it is freed below.
        let new = unsafe { self.alloc(new_layout, grow) };
        if !new.is_null() {
            // SAFETY: both blocks hold at least the smaller size and are distinct.
            unsafe {
                core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

/// The global allocator over wasm memory: the single-threaded wasm32 target has one caller at a
/// time.
#[cfg(target_arch = "wasm32")]
pub mod wasm {
    use super::SizeClasses;
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    const PAGE: usize = 65_536;

    /// Registered in `browser/mod.rs` with `#[global_allocator]`.
    pub struct WasmAlloc(UnsafeCell<SizeClasses>);

    // SAFETY: wasm32-unknown-unknown without the atomics feature runs one thread.
    unsafe impl Sync for WasmAlloc {}

    impl Default for WasmAlloc {
        fn default() -> Self {
            Self::new()
        }
    }

    impl WasmAlloc {
        /// The allocator, with nothing carved.
        pub const fn new() -> Self {
            WasmAlloc(UnsafeCell::new(SizeClasses::new()))
        }
    }

    /// Grows the wasm memory by whole pages holding at least `bytes` (four at least, so small
    /// requests do not grow it page by page).
    fn grow(bytes: usize) -> Option<core::ops::Range<usize>> {
        let pages = bytes.div_ceil(PAGE).max(4);
        let old = core::arch::wasm32::memory_grow(0, pages);
        (old != usize::MAX).then(|| old * PAGE..(old + pages) * PAGE)
    }

    // SAFETY: blocks come from pages only this allocator grows; one thread (see above).
    unsafe impl GlobalAlloc for WasmAlloc {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: one caller at a time; `grow` returns fresh pages.
            unsafe { (*self.0.get()).alloc(layout, grow) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: as the trait requires of the caller.
            unsafe { (*self.0.get()).dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // SAFETY: as the trait requires of the caller.
            unsafe { (*self.0.get()).realloc(ptr, layout, new_size, grow) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regions handed out from one leaked buffer, as the wasm memory grows: each follows the
    /// last until the buffer is used up.
    struct Memory {
        next: usize,
        end: usize,
    }

    impl Memory {
        fn new(bytes: usize) -> Memory {
            let buffer: &'static mut [u128] = Vec::leak(vec![0u128; bytes / 16]);
            let start = buffer.as_mut_ptr() as usize;
            Memory {
                next: start,
                end: start + bytes,
            }
        }

        fn grow(&mut self) -> impl FnOnce(usize) -> Option<Range<usize>> + '_ {
            move |bytes| {
                let bytes = bytes.div_ceil(4096) * 4096;
                (self.next + bytes <= self.end).then(|| {
                    self.next += bytes;
                    self.next - bytes..self.next
                })
            }
        }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).expect("a valid layout")
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_keep_what_is_written() {
        let mut memory = Memory::new(1 << 22);
        let mut heap = SizeClasses::new();
        let mut live = Vec::new();
        for i in 0..2_000usize {
            let l = layout(1 + (i * 37) % 3_000, 1 << (i % 7));
            let p = unsafe { heap.alloc(l, memory.grow()) };
            assert!(!p.is_null());
            assert_eq!(p as usize % l.align(), 0, "{l:?}");
            unsafe { core::ptr::write_bytes(p, i as u8, l.size()) };
            live.push((p, l, i as u8));
            if i % 3 == 0 {
                let (p, l, _) = live.swap_remove(i % live.len());
                unsafe { heap.dealloc(p, l) };
            }
        }
        for &(p, l, byte) in &live {
            let bytes = unsafe { core::slice::from_raw_parts(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == byte), "a block was overwritten");
        }
    }

    #[test]
    fn freed_blocks_are_reused_so_a_steady_load_stops_growing() {
        let mut memory = Memory::new(1 << 22);
        let mut heap = SizeClasses::new();
        let mut used_after = Vec::new();
        for round in 0..50 {
            let blocks: Vec<_> = (1..200)
                .map(|n| {
                    let l = layout(n * 13, 8);
                    (unsafe { heap.alloc(l, memory.grow()) }, l)
                })
                .collect();
            for (p, l) in blocks {
                unsafe { heap.dealloc(p, l) };
            }
            if round > 0 {
                used_after.push(memory.next);
            }
        }
        assert!(
            used_after.windows(2).all(|w| w[0] == w[1]),
            "{used_after:?}"
        );
    }

    #[test]
    fn realloc_keeps_the_contents_and_stays_in_place_within_a_class() {
        let mut memory = Memory::new(1 << 20);
        let mut heap = SizeClasses::new();
        let l = layout(40, 8);
        let p = unsafe { heap.alloc(l, memory.grow()) };
        unsafe { core::ptr::copy_nonoverlapping(b"0123456789".as_ptr(), p, 10) };
        let same = unsafe { heap.realloc(p, l, 60, memory.grow()) };
        assert_eq!(same, p, "40 and 60 bytes are both in the 64-byte class");
        let moved = unsafe { heap.realloc(same, layout(60, 8), 1_000, memory.grow()) };
        assert_ne!(moved, p);
        let kept = unsafe { core::slice::from_raw_parts(moved, 10) };
        assert_eq!(kept, b"0123456789");
        // The old block went back to its class.
        assert_eq!(unsafe { heap.alloc(layout(50, 8), memory.grow()) }, p);
    }

    #[test]
    fn no_memory_and_impossible_sizes_give_null() {
        let mut memory = Memory::new(1 << 16);
        let mut heap = SizeClasses::new();
        assert!(unsafe { heap.alloc(layout(1 << 20, 8), memory.grow()) }.is_null());
        assert!(unsafe { heap.alloc(layout(1 << 62, 8), memory.grow()) }.is_null());
        assert!(!unsafe { heap.alloc(layout(100, 8), memory.grow()) }.is_null());
    }

    #[test]
    fn a_region_that_follows_the_last_extends_it() {
        let mut memory = Memory::new(1 << 20);
        let mut heap = SizeClasses::new();
        let start = memory.next;
        // 4,096-byte regions: the second 3,000-byte block does not fit in the first region's
        // rest, and the next region follows it, so nothing is skipped.
        let a = unsafe { heap.alloc(layout(2_048, 8), memory.grow()) };
        let b = unsafe { heap.alloc(layout(2_048, 8), memory.grow()) };
        let c = unsafe { heap.alloc(layout(2_048, 8), memory.grow()) };
        assert_eq!(a as usize, start);
        assert_eq!(b as usize, start + 2_048);
        assert_eq!(c as usize, start + 4_096);
    }
}
