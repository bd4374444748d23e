#!/usr/bin/env node
// delay-proxy: TCP forwarders that hold every chunk for DELAY_MS in each
// direction, so a local s_server looks like a server one round trip of
// 2 x DELAY_MS away (a TLS 1.3 handshake then takes one such round trip more
// than on loopback). Used by `make bench` to show how `sites` behaves when
// the network, not the CPU, is what a verdict waits for.
//
//   node bench/delay-proxy.mjs DELAY_MS LISTEN_ADDR:PORT=TARGET_ADDR:PORT...
//
// Prints "ready" once every listener is up; runs until SIGTERM. Node
// built-ins only.
import net from 'node:net';

const [delayArg, ...pairs] = process.argv.slice(2);
const DELAY = Number(delayArg);
if (!Number.isFinite(DELAY) || DELAY < 0 || pairs.length === 0) {
	console.error('usage: delay-proxy.mjs DELAY_MS LISTEN_ADDR:PORT=TARGET_ADDR:PORT...');
	process.exit(2);
}

const split = (s) => {
	const i = s.lastIndexOf(':');
	return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
};

// Forwards a to b, each chunk and the end DELAY ms late, in order.
function pipeDelayed(a, b) {
	a.on('data', (chunk) => setTimeout(() => { if (!b.destroyed) b.write(chunk); }, DELAY));
	a.on('end', () => setTimeout(() => { if (!b.destroyed) b.end(); }, DELAY));
}

const servers = [];
let up = 0;
for (const pair of pairs) {
	const [from, to] = pair.split('=').map(split);
	const server = net.createServer((client) => {
		const upstream = net.connect(to);
		const kill = () => { client.destroy(); upstream.destroy(); };
		client.on('error', kill);
		upstream.on('error', kill);
		client.on('close', () => setTimeout(() => upstream.destroy(), DELAY + 50));
		upstream.on('close', () => setTimeout(() => client.destroy(), DELAY + 50));
		pipeDelayed(client, upstream);
		pipeDelayed(upstream, client);
	});
	server.on('error', (e) => {
		console.error(`delay-proxy: ${from.host}:${from.port}: ${e.message}`);
		process.exit(1);
	});
	server.listen({ host: from.host, port: from.port, exclusive: true, backlog: 511 }, () => {
		if (++up === pairs.length) console.log('ready');
	});
	servers.push(server);
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
