/*
 * crc32c: CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), the checksum
 * of every ring record (see docs/FORMAT.md).
 *
 * Castagnoli rather than the zlib polynomial because x86_64 has it in
 * hardware (SSE4.2 crc32): re-validating a 64 MiB ring after a restart then
 * costs a few milliseconds.  The portable table version gives the same
 * results everywhere; the format never depends on which one ran.
 */
#ifndef KMW_CRC32C_H
#define KMW_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Continue a CRC over buf[0..len).  Start with crc = 0; the result of one
 * call can be passed as crc to the next to checksum split buffers:
 * crc32c(crc32c(0, a, na), b, nb) == crc32c(0, a||b, na + nb).
 * crc32c(0, "123456789", 9) == 0xe3069283 (the standard check value).
 */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
