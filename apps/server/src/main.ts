import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { bootApp, findInstallRoot, LOGGER } from '@bench/app-runtime';
import type { Logger } from '@bench/logging';
import { OpenApiDocument } from './api/openapi.controller';
import { ErrorBodyFilter } from './api/error-body.filter';
import { validationPipe } from './api/validation';
import { RedisIoAdapter } from './live/redis-io.adapter';
import { ServerModule } from './server.module';

/** The built dashboard when present, else the placeholder page. */
function dashboardDirectory(): string {
  const root = findInstallRoot();
  const built = path.join(root, 'apps/dashboard/dist');
  return existsSync(path.join(built, 'index.html')) ? built : path.join(root, 'apps/dashboard/src');
}

/** Paths the single-page app owns: any other GET that is not the API answers its index.html. */
function spaFallback(directory: string) {
  const index = path.join(directory, 'index.html');
  return (request: Request, response: Response, next: NextFunction) => {
    const isPage =
      request.method === 'GET' &&
      !request.path.startsWith('/api') &&
      !request.path.startsWith('/socket.io') &&
      request.path !== '/health' &&
      !path.extname(request.path);
    if (!isPage || !existsSync(index)) return next();
    response.type('html').send(readFileSync(index));
  };
}

void bootApp({
  app: 'server',
  module: (context) => ServerModule.register(context),
  listen: (env) => env.server,
  configure: (app, context) => {
    const express = app as NestExpressApplication;
    const directory = dashboardDirectory();
    express.useStaticAssets(directory, { index: 'index.html' });
    express.use(spaFallback(directory));
    express.useGlobalPipes(validationPipe());
    express.useGlobalFilters(new ErrorBodyFilter(app.get<Logger>(LOGGER).child({ component: 'Api' })));
    express.useWebSocketAdapter(new RedisIoAdapter(app, context.env.redis.url as string));
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('bench')
        .setDescription('Restore bench controller: floor, slots, runs, operator actions, users.')
        .addBearerAuth()
        .build(),
    );
    app.get(OpenApiDocument).document = document;
  },
});
