// Starts Swagger UI on the hub's own OpenAPI document; tokens pasted under Authorize are kept
// for the tab, so calls can be tried one after another.
(function () {
  "use strict";
  window.SwaggerUIBundle({
    url: "/api/openapi.json",
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: false,
    validatorUrl: null,
    displayRequestDuration: true,
    defaultModelsExpandDepth: 0,
  });
})();
