// Validates a Forge manifest with @forge/manifest's full validation and prints the result as JSON.
// Usage: node validate.js path/to/manifest.yml
const { validate } = require("@forge/manifest");

validate(false, process.argv[2]).then(
  (result) => {
    process.stdout.write(JSON.stringify({ success: result.success, errors: result.errors || [] }));
  },
  (error) => {
    process.stderr.write(String(error && error.stack ? error.stack : error));
    process.exit(2);
  },
);
