// Starts Swagger UI on /docs (gateway/docs.py). A file of its own, not an inline script:
// the page's Content-Security-Policy allows scripts from the gateway itself only.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No call to the public validator service: the page talks to this gateway only.
    validatorUrl: null,
  });
});
