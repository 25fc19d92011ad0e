// A task server on Node's `http` module with its defaults, answering every
// POST with a small JSON body (`res.end(body)` after `setHeader`, as most
// Express-style handlers do).
//
// Binds 127.0.0.1 on the port in $PORT (0, the default, picks a free one) and
// prints `listening on port N` once it accepts connections. Each answer
// carries `connection`, the serial number (from 1) of the TCP connection it
// was sent on, so a caller can count the connections it used.
"use strict";

const http = require("http");

let connections = 0;

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const request = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
    const fields = request && typeof request === "object" ? Object.keys(request).sort() : [];
    const body = JSON.stringify({ ok: true, fields, connection: req.socket.connectionNumber });
    res.statusCode = 200;
    res.setHeader("Content-Type", "application/json");
    res.setHeader("Content-Length", Buffer.byteLength(body));
    res.end(body);
  });
});

server.on("connection", (socket) => {
  connections += 1;
  socket.connectionNumber = connections;
});

server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(`listening on port ${server.address().port}`);
});
