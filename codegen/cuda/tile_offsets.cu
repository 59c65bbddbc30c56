// The prefix sums between a filter's two passes (see codegen/src/ptx/rows.rs): each
// tile's count of kept rows becomes the position where its first kept row is written,
// offsets[t] = counts[0] + ... + counts[t - 1], and *total is the sum of all. One block
// runs it, a blockDim.x-wide scan at a time (Hillis–Steele in shared memory), carrying the
// running sum from one stretch of tiles to the next.
//
// PTX comes from this file through NVRTC (regenerate.py beside it); the generated kernels
// are rendered by corepy itself.

extern "C" __global__ void corepy_tile_offsets(const unsigned int* counts,
                                               unsigned long long* offsets,
                                               unsigned long long tiles,
                                               unsigned long long* total) {
    __shared__ unsigned long long sums[1024];
    const unsigned int t = threadIdx.x;
    unsigned long long carry = 0;
    for (unsigned long long base = 0; base < tiles; base += blockDim.x) {
        const unsigned long long i = base + t;
        const unsigned long long mine = i < tiles ? counts[i] : 0;
        sums[t] = mine;
        __syncthreads();
        for (unsigned int step = 1; step < blockDim.x; step *= 2) {
            const unsigned long long before = t >= step ? sums[t - step] : 0;
            __syncthreads();
            sums[t] += before;
            __syncthreads();
        }
        if (i < tiles) {
            offsets[i] = carry + sums[t] - mine;
        }
        carry += sums[blockDim.x - 1];
        __syncthreads();
    }
    if (t == 0) {
        *total = carry;
    }
}
