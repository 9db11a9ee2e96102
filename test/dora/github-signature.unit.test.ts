import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { githubSignature, hasValidSignature } from '../../src/dora/github-signature';

describe('GitHub webhook signatures', () => {
  // The example in GitHub's "Validating webhook deliveries".
  const secret = "It's a Secret to Everybody";
  const body = Buffer.from('Hello, World!');
  const documented = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

  test("When the body and secret are GitHub's documented example, then the signature is the documented one", () => {
    assert.equal(githubSignature(secret, body), documented);
    assert.equal(hasValidSignature(secret, body, documented), true);
  });

  test('When the body, the secret or the header differ, then the signature is refused', () => {
    assert.equal(hasValidSignature(secret, Buffer.from('Hello, World?'), documented), false);
    assert.equal(hasValidSignature('another secret', body, documented), false);
    assert.equal(hasValidSignature(secret, body, documented.replace('sha256=', 'sha1=')), false);
    assert.equal(hasValidSignature(secret, body, documented.slice(0, -1)), false);
    assert.equal(hasValidSignature(secret, body, documented.toUpperCase()), false);
  });
});
