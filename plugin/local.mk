# plugin/: libpinhole inside softphones (pinhole-call, the baresip module).
