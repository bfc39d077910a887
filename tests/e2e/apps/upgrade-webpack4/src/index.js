// Bundled by webpack 4 at image build time; the server sends dist/main.js.
import { greeting } from "./greeting";

document.body.textContent = greeting("webpack 4");
