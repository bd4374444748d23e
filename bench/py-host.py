#!/usr/bin/python3
# py-host: a plain native-messaging host in Python, written the way most
# extensions ship one (the pattern of the MDN and Chrome examples): stdlib
# only, json + struct, one message at a time. A peer of `make bench`: it
# answers hello like trustlens-host and everything else with unknown_type.
import json
import struct
import sys


def get_message():
    raw_length = sys.stdin.buffer.read(4)
    if len(raw_length) == 0:
        sys.exit(0)
    message_length = struct.unpack('@I', raw_length)[0]
    message = sys.stdin.buffer.read(message_length).decode('utf-8')
    return json.loads(message)


def send_message(message):
    encoded = json.dumps(message).encode('utf-8')
    sys.stdout.buffer.write(struct.pack('@I', len(encoded)))
    sys.stdout.buffer.write(encoded)
    sys.stdout.buffer.flush()


while True:
    request = get_message()
    if request.get('type') == 'hello':
        send_message({'id': request.get('id'), 'ok': True,
                      'result': {'protocol': 1, 'version': '0.1.0',
                                 'capabilities': ['hello']}})
    else:
        send_message({'id': request.get('id'), 'ok': False,
                      'error': {'code': 'unknown_type',
                                'message': 'This host does not know that request type.'}})
