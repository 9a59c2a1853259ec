/* pinhole-call's media: RTP packets of G.711 mu-law frames of a 440 Hz
 * tone, 20 ms each, and the count of what came back (lost by sequence
 * number), enough for a test call to show audio went both ways. */
#ifndef PINHOLE_CALL_TONE_H
#define PINHOLE_CALL_TONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TONE_PKT (12 + 160)

struct tone {
	uint16_t seq, rx_last;
	uint32_t ts, ssrc;
	unsigned long lost;          /* in gaps of the sequence received */
	bool rx_any;
};

/* The next packet into pkt (TONE_PKT bytes); tone_sent() once it went. */
void tone_frame(const struct tone *t, uint8_t pkt[TONE_PKT]);
void tone_sent(struct tone *t);
/* A packet that came in: counted when it is RTP. */
void tone_count(struct tone *t, const uint8_t *buf, size_t n);

#endif
