/*
 * Read bandwidth of main memory with two threads (the attention of a batched decode step streams the KV cache, so
 * this, not the matmul ceiling, bounds it). Each thread sums its half of a 512 MB buffer with AVX-512 loads.
 *
 *   gcc -O2 -mavx512f -pthread bench/src/main/c/membw.c -o /tmp/membw && /tmp/membw
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define FLOATS (1L << 27)
#define THREADS 2

static float *buf;
static float sums[THREADS];

static void *reader(void *arg) {
    long t = (long) arg;
    const float *p = buf + t * (FLOATS / THREADS);
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0; /* four chains: loads, not adds, must limit */
    for (long i = 0; i < FLOATS / THREADS; i += 64) {
        s0 = _mm512_add_ps(s0, _mm512_load_ps(p + i));
        s1 = _mm512_add_ps(s1, _mm512_load_ps(p + i + 16));
        s2 = _mm512_add_ps(s2, _mm512_load_ps(p + i + 32));
        s3 = _mm512_add_ps(s3, _mm512_load_ps(p + i + 48));
    }
    sums[t] = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
    return NULL;
}

int main(void) {
    buf = aligned_alloc(64, FLOATS * sizeof(float));
    for (long i = 0; i < FLOATS; i++) buf[i] = 1.0f;
    double best = 0;
    for (int round = 0; round < 8; round++) {
        struct timespec a, b;
        pthread_t th[THREADS];
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (long t = 0; t < THREADS; t++) pthread_create(&th[t], NULL, reader, (void *) t);
        for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
        double gbs = FLOATS * sizeof(float) / s / 1e9;
        if (gbs > best) best = gbs;
        printf("round %d: %.1f GB/s (checksum %.0f)\n", round, gbs, (double) sums[0] + sums[1]);
    }
    printf("best: %.1f GB/s read, %d threads\n", best, THREADS);
    return 0;
}
