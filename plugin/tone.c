/* RTP with G.711 mu-law frames of a 440 Hz tone (tone.h). */
#include "config.h"

#include <math.h>

#include "tone.h"

static uint8_t ulaw(int16_t pcm)
{
	int sign = pcm < 0 ? 0x80 : 0, exp = 7, mag = (pcm < 0 ? -pcm : pcm) + 132;

	if (mag > 32767)
		mag = 32767;
	while (exp > 0 && !(mag & (0x4000 >> (7 - exp))))
		exp--;
	return (uint8_t)~(sign | exp << 4 | ((mag >> (exp + 3)) & 0x0f));
}

void tone_frame(const struct tone *t, uint8_t pkt[TONE_PKT])
{
	pkt[0] = 0x80;
	pkt[1] = 0; /* PCMU */
	pkt[2] = (uint8_t)(t->seq >> 8);
	pkt[3] = (uint8_t)t->seq;
	for (int i = 0; i < 4; i++) {
		pkt[4 + i] = (uint8_t)(t->ts >> (24 - 8 * i));
		pkt[8 + i] = (uint8_t)(t->ssrc >> (24 - 8 * i));
	}
	for (int i = 0; i < 160; i++)
		pkt[12 + i] = ulaw((int16_t)(8000 * sin(2 * M_PI * 440 *
						       (t->ts + (unsigned)i) / 8000.0)));
}

void tone_sent(struct tone *t)
{
	t->seq++;
	t->ts += 160;
}

void tone_count(struct tone *t, const uint8_t *buf, size_t n)
{
	uint16_t seq;

	if (n < 12 || (buf[0] & 0xc0) != 0x80)
		return;
	seq = (uint16_t)(buf[2] << 8 | buf[3]);
	if (t->rx_any && (uint16_t)(seq - t->rx_last) > 1 &&
	    (uint16_t)(seq - t->rx_last) < 1000)
		t->lost += (uint16_t)(seq - t->rx_last) - 1u;
	if (!t->rx_any || (int16_t)(seq - t->rx_last) > 0)
		t->rx_last = seq;
	t->rx_any = true;
}
