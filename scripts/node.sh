# Sourced by scripts/test after Node.js and npm are installed: makes sure `node` on PATH is 20 or newer.
# Debian 12's own nodejs is 18. When the node found is older, this takes an official Node.js 22 build from the npm
# registry (the node-linux-<arch> package holds the binary, about 120 MB unpacked) into .cache/node/ once, and puts
# it first on PATH for the tests; nothing is installed system-wide.
NODE_MIN=20
NODE_PINNED=22
node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt "$NODE_MIN" ]; then
  arch=$(node -p process.arch)
  bin="$PWD/.cache/node/node_modules/node-linux-$arch/bin"
  if [ "$(node_major "$bin/node")" -lt "$NODE_MIN" ]; then
    echo "lotgraph: node $(node --version) is older than $NODE_MIN; installing Node.js $NODE_PINNED from npm into .cache/node/" >&2
    if ! npm install --prefix .cache/node --no-save --no-audit --no-fund --loglevel=error "node-linux-$arch@$NODE_PINNED" >&2 ||
      [ "$(node_major "$bin/node")" -lt "$NODE_MIN" ]; then
      echo "lotgraph: the tests need Node.js $NODE_MIN or newer and could not install one; install it and run again" \
        "(npm: npm install --prefix .cache/node node-linux-$arch@$NODE_PINNED; or nodejs.org)" >&2
      exit 1
    fi
  fi
  export PATH="$bin:$PATH"
fi
