/* libpinhole: the media plane that opens firewall windows. */
#ifndef PINHOLE_H
#define PINHOLE_H

#include "pinhole/api.h"
#include "pinhole/addr.h"
#include "pinhole/stun.h"
#include "pinhole/fwwin.h"
#include "pinhole/media.h"

#endif
