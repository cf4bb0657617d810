// Sites a creator's audience arrives from when it follows the creator's own links: social networks and video
// platforms, link-in-bio pages, newsletter platforms and webmail, search engines and messengers — the referrer
// classes web analytics tools keep as "social", "search" and "email". A creator posting on five platforms has
// clicks from five sites; clicks stuffed into ad stacks and page loads come from many sites outside these.

/** Every webmail client's clicks, as one referrer site. */
export const WEBMAIL = 'webmail';

/** Sites (as `siteOf` gives them) of platforms, link-in-bio pages, newsletters, webmail and messengers. */
const PLATFORM_SITES: ReadonlySet<string> = new Set([
  // social networks and video
  'instagram.com',
  'facebook.com',
  'fb.com',
  'fb.me',
  'tiktok.com',
  'youtube.com',
  'youtu.be',
  'pinterest.com',
  'pin.it',
  'twitter.com',
  'x.com',
  't.co',
  'threads.net',
  'snapchat.com',
  'reddit.com',
  'linkedin.com',
  'lnkd.in',
  'twitch.tv',
  'tumblr.com',
  'vk.com',
  'bsky.app',
  // link-in-bio pages
  'linktr.ee',
  'lnk.bio',
  'beacons.ai',
  'stan.store',
  'campsite.bio',
  'later.com',
  'taplink.cc',
  // newsletter platforms and webmail (besides every provider's mail host, `WEBMAIL`)
  WEBMAIL,
  'substack.com',
  'beehiiv.com',
  'mailchi.mp',
  'list-manage.com',
  'convertkit.com',
  'kit.com',
  'live.com',
  'outlook.com',
  'office.com',
  'gmx.net',
  'gmx.de',
  'web.de',
  't-online.de',
  'proton.me',
  'icloud.com',
  'yandex.ru',
  // search engines not named below by their brand
  'duckduckgo.com',
  'ecosia.org',
  'baidu.com',
  'naver.com',
  'seznam.cz',
  'qwant.com',
  'startpage.com',
  // messengers
  'whatsapp.com',
  'wa.me',
  'telegram.org',
  't.me',
  'messenger.com',
  'discord.com',
  'discord.gg',
]);

/**
 * Webmail clients, by the host a reader's click leaves from: providers serve their mail from a subdomain
 * named for it (`mail.google.com`, `mail.orange.fr`, `poczta.wp.pl`, `webmail.ziggo.nl`, `email.uol.com.br`,
 * `navigator-bs.gmx.net`), whatever the provider and country. They count as one site, `webmail`.
 */
const WEBMAIL_HOST = /^(mail|webmail|email|e-mail|poczta|posta|correo|courrier|navigator(-[a-z]+)?)\./i;

/** Whether a referrer host is a webmail client's. */
export function isWebmailHost(host: string): boolean {
  return WEBMAIL_HOST.test(host);
}

/** Brands whose sites differ by country (`google.de`, `google.co.uk`, `bing.com`, `yahoo.co.jp`). */
const PLATFORM_BRANDS = /^(google|bing|yahoo|yandex|amazon)\./;

/** Whether a referrer site is a platform an audience follows a creator's links from. */
export function isPlatformSite(site: string): boolean {
  return PLATFORM_SITES.has(site) || PLATFORM_BRANDS.test(site);
}
