'use strict';
// Shared by the scenario scripts: connect the Node `onvif` package's Cam to the
// device named on the command line, print JSON lines, and fail loudly.
//
// Usage: node <scenario>.js HOST PORT USER PASSWORD
// Every scenario prints JSON objects, one per line, on stdout; the pytest side
// (tests/interop/test_node_onvif.py) asserts on them. Anything else goes to stderr.

const { Cam } = require('onvif');

function emit(value) {
	process.stdout.write(JSON.stringify(value) + '\n');
}

function fail(error) {
	process.stderr.write('scenario failed: ' + (error && error.stack ? error.stack : String(error)) + '\n');
	process.exit(1);
}

// `new Cam(...)` connects at once: GetSystemDateAndTime without credentials,
// then GetServices, GetProfiles and GetVideoSources signed with the clock offset.
function connect() {
	const [hostname, port, username, password] = process.argv.slice(2, 6);
	return new Promise((resolve, reject) => {
		const cam = new Cam(
			{ hostname, port: Number(port), username, password, timeout: 10000, autoconnect: true },
			function (err) {
				if (err) { reject(err); } else { resolve(cam); }
			}
		);
		cam.on('warning', (message) => emit({ warning: String(message) }));
	});
}

// Promisify a Cam method that takes an optional options object and a callback.
function call(cam, method, ...args) {
	return new Promise((resolve, reject) => {
		cam[method](...args, function (err, result) {
			if (err) { reject(new Error(method + ': ' + err.message)); } else { resolve(result); }
		});
	});
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

module.exports = { connect, call, emit, fail, sleep };
