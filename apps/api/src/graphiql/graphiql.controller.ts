import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { GRAPHIQL_ASSETS, GRAPHIQL_CSP, GRAPHIQL_PAGE } from './graphiql.assets.js';

/**
 * GraphiQL, served from the installed graphiql, react and react-dom packages (no CDN), in production too: the
 * page itself is static and public; what it can see is what the bearer token typed into it may read.
 */
@Controller('graphiql')
export class GraphiqlController {
  @Get()
  page(@Res() res: Response): void {
    res
      .status(200)
      .set({
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': GRAPHIQL_CSP,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-cache',
      })
      .send(GRAPHIQL_PAGE);
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Res() res: Response): void {
    const asset = GRAPHIQL_ASSETS.get(name);
    if (!asset) throw new NotFoundException();
    res.status(200).set({
      'content-type': `${asset.contentType}; charset=utf-8`,
      'x-content-type-options': 'nosniff',
      'cache-control': 'public, max-age=3600',
    });
    if (asset.text !== undefined) res.send(asset.text);
    else res.sendFile(asset.file!);
  }
}
