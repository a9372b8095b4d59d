/// A read-only copy of an array of trivial values (no class references) in
/// memory the owner frees with `deallocate()`: the compiled rules read these
/// on the packet path with no reference counting or uniqueness checks.
func frozenCopy<T>(_ array: [T]) -> UnsafeBufferPointer<T> {
    let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
    _ = buffer.initialize(from: array)
    return UnsafeBufferPointer(rebasing: buffer[..<array.count])
}
